import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { descendants, isAlive, type ProcStat, readStat, signalProcesses } from './proc-tree';

/** A process the peers bench started. `stop()` ends it and everything it started, by pid, and nothing else. */
export interface OwnedProcess {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** The last few KB of its stdout and stderr, for error messages. */
  output(): string;
  exited(): boolean;
  /** Resolves once it has written `text` to stdout or stderr; rejects if it exits first or `ms` pass. */
  waitForOutput(text: string | RegExp, ms: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Run as this user and group (the bench's PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** What asks it to stop; SIGKILL follows after `graceMs`. PostgreSQL's fast shutdown is SIGINT. */
  stopSignal?: NodeJS.Signals;
  graceMs?: number;
}

const owned = new Set<OwnedProcess>();
const dirs = new Set<string>();
/** Extra pids to kill on an emergency exit: servers started by shared helpers (the orchestrator's redis-server). */
const extraPids = new Map<number, ProcStat>();

/**
 * util-linux's setpriv sets the parent-death signal and execs the command (same pid): if the bench itself is killed
 * with SIGKILL, which no handler sees, its servers die with it instead of running on.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export function spawnOwned(name: string, command: string, args: string[], options: SpawnOptions = {}): OwnedProcess {
  const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', command, ...args]] : [command, args];
  const proc = spawn(file, argv, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const pid = proc.pid;
  let tail = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-6000);
    for (const l of listeners) l();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  let spawnError: Error | undefined;
  proc.on('error', (error) => {
    spawnError = error;
  });
  const exited = () => proc.exitCode !== null || proc.signalCode !== null || spawnError !== undefined;
  let stopping: Promise<void> | undefined;
  const child: OwnedProcess = {
    name,
    pid,
    proc,
    output: () => (spawnError ? `${spawnError.message}\n${tail}` : tail),
    exited,
    waitForOutput(text, ms) {
      const seen = () => (typeof text === 'string' ? tail.includes(text) : text.test(tail));
      return new Promise((resolve, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          proc.off('exit', onExit);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (seen()) done();
        };
        const onExit = () => done(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}): ${child.output()}`));
        const timer = setTimeout(() => done(new Error(`${name} did not print ${String(text)} in ${ms} ms`)), ms);
        listeners.add(check);
        proc.once('exit', onExit);
        check();
        if (exited()) onExit();
      });
    },
    stop() {
      stopping ??= stopTree(child, options.stopSignal ?? 'SIGTERM', options.graceMs ?? 5000).finally(() =>
        owned.delete(child),
      );
      return stopping;
    },
  };
  owned.add(child);
  return child;
}

/** Asks the process to stop, waits up to `graceMs`, then kills whatever is left of the tree it had started. */
async function stopTree(child: OwnedProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const tree = descendants(child.pid);
  if (!child.exited()) {
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<void>((resolve) => child.proc.once('exit', () => resolve()));
    try {
      process.kill(child.pid, signal);
    } catch {
      // it ended meanwhile
    }
    await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }
  // Whatever still runs (the root if it ignored the signal, children it left behind) is ended now.
  const left = tree.filter(isAlive);
  signalProcesses(left, 'SIGKILL');
  if (!child.exited()) await new Promise<void>((resolve) => child.proc.once('exit', () => resolve()));
  // SIGKILL is not instant: wait until each one is gone, so "stopped" means stopped.
  const until = Date.now() + 3000;
  while (left.some(isAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

/** A temporary directory to remove when the bench ends, however it ends. */
export function ownDir(dir: string): string {
  dirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Records a server another helper started (by pid), so an interrupted bench still kills it. */
export function ownPid(pid: number): void {
  const stat = readStat(pid);
  if (stat) extraPids.set(pid, stat);
}

export function disownPid(pid: number): void {
  extraPids.delete(pid);
}

/** Stops everything the peers bench started, gracefully, and removes its directories. */
export async function stopEverything(): Promise<void> {
  await Promise.allSettled([...owned].map((c) => c.stop()));
  killEverythingNow();
}

/** The last resort on exit: SIGKILL every tree still running, synchronously. */
export function killEverythingNow(): void {
  const stats = [...owned].flatMap((c) => descendants(c.pid));
  signalProcesses([...stats, ...extraPids.values()], 'SIGKILL');
  extraPids.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Every process the bench owns right now (for tests: after cleanup this is empty). */
export function ownedProcesses(): OwnedProcess[] {
  return [...owned];
}

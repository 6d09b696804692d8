import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { withDeadline } from '@orch/testing';
import { REPO_ROOT } from './deploy-files';

/** One JSON log line of a service process (they log JSON to stderr). */
export type LogLine = Record<string, unknown>;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned service process whose JSON log lines are kept, so tests wait for what it says rather than for time. */
export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Resolves once the process has exited, however. */
  readonly exited: Promise<Exit>;
  /** The last of its stderr, for failure messages. */
  tail(): string;
  /** The first log line (already written or still to come) that matches; rejects if the process exits first. */
  waitForLog(match: (line: LogLine) => boolean, what: string, ms?: number): Promise<LogLine>;
  /** Sends `signal` and resolves with the exit; rejects after `ms` (the process is then SIGKILLed). */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<Exit>;
}

/** Compiles the apps the tests start (incremental: a no-op when dist/ is current, as after `pnpm build`). */
export function buildApps(apps: readonly string[]): void {
  execFileSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-b', ...apps.map((a) => `apps/${a}`)],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
}

/** Starts `command args` with exactly `env` (plus PATH), stdout ignored, stderr parsed as JSON lines. */
export function startService(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd = REPO_ROOT,
): ServiceProcess {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: LogLine[] = [];
  const emitter = new EventEmitter();
  let raw = '';
  let buffer = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    raw = (raw + text).slice(-8000);
    buffer += text;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue; // ioredis and Node warnings are plain text
      try {
        const line = JSON.parse(part) as LogLine;
        lines.push(line);
        emitter.emit('line', line);
      } catch {
        // a partial or foreign line: only kept in the raw tail
      }
    }
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      emitter.emit('exit');
      resolve({ code, signal });
    });
  });
  const service: ServiceProcess = {
    name,
    child,
    lines,
    exited,
    tail: () => raw,
    waitForLog(match, what, ms = 20_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      let onLine: ((line: LogLine) => void) | undefined;
      let onExit: (() => void) | undefined;
      const found = new Promise<LogLine>((resolve, reject) => {
        onLine = (line) => {
          if (match(line)) resolve(line);
        };
        onExit = () => reject(new Error(`${name} exited before logging ${what}:\n${raw}`));
        emitter.on('line', onLine);
        emitter.once('exit', onExit);
        if (child.exitCode !== null || child.signalCode !== null) onExit();
      });
      return withDeadline(found, ms, `${name} to log ${what}`).finally(() => {
        emitter.off('line', onLine as never);
        emitter.off('exit', onExit as never);
      });
    },
    async stop(signal = 'SIGTERM', ms = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      try {
        return await withDeadline(exited, ms, `${name} to exit after ${signal}`);
      } catch (error) {
        child.kill('SIGKILL');
        throw error;
      }
    },
  };
  return service;
}

/** Kills whatever is still running, for afterAll; never throws. */
export async function killAll(services: readonly ServiceProcess[]): Promise<void> {
  await Promise.all(
    services.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      s.child.kill('SIGKILL');
      await s.exited;
    }),
  );
}

/** fetch + JSON for the API tests. */
export async function callJson(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed };
}

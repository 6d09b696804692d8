import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ServiceCallError } from '@orch/messaging';
import { CappedOutput } from './capped-output';
import type { RunOutcome, RunSpec } from './run-outcome';

/** After the command's own process exits, how long leftover pipe holders (daemonised grandchildren) may keep its output open. */
const PIPE_GRACE_MS = 2000;

/** What is actually spawned: the command itself (unsandboxed) or the sandbox wrapping it. */
export interface Launch {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Set when the agent runs as root: the process starts as this unprivileged user. */
  uid?: number;
  gid?: number;
}

/**
 * Runs an argv (never a shell string) as a local process of this user in its own process group: trusted single user
 * only (EXEC_UNSANDBOXED=true). The environment is exactly `spec.env`.
 */
export function runLocal(spec: RunSpec): Promise<RunOutcome> {
  const [file, ...args] = spec.argv;
  if (!file) return Promise.reject(new ServiceCallError('BAD_REQUEST', 'command is empty', { retryable: false }));
  return runLaunched(spec, { file, args, cwd: spec.dir, env: spec.env });
}

/**
 * Spawns `launch` in its own process group, so a timeout or a cancel can kill everything it started
 * (`kill(-pgid)`), and so does the command's own exit, as when a container's first process ends.
 */
export function runLaunched(spec: RunSpec, launch: Launch): Promise<RunOutcome> {
  const started = Date.now();
  const stdout = new CappedOutput(spec.maxOutputBytes, (part) => spec.onOutput?.('stdout', part));
  const stderr = new CappedOutput(spec.maxOutputBytes, (part) => spec.onOutput?.('stderr', part));
  const child = spawn(launch.file, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(launch.uid === undefined ? {} : { uid: launch.uid, gid: launch.gid ?? launch.uid }),
  });
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let timedOut = false;
  let cancelled = false;
  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  const onAbort = () => {
    cancelled = true;
    killGroup();
  };
  return new Promise<RunOutcome>((resolve, reject) => {
    let graceTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, spec.timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      spec.signal.removeEventListener('abort', onAbort);
    };
    spec.signal.addEventListener('abort', onAbort, { once: true });
    if (spec.signal.aborted) onAbort();
    child.once('spawn', () => spec.onStart?.(child.pid));
    child.once('error', (error: NodeJS.ErrnoException) => {
      finish();
      const missing = error.code === 'ENOENT';
      reject(
        new ServiceCallError(
          'BAD_REQUEST',
          missing ? `command not found: ${launch.file}` : `could not start ${launch.file}: ${error.message}`,
          { retryable: !missing, cause: error },
        ),
      );
    });
    child.once('exit', () => {
      killGroup();
      graceTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS);
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      finish();
      resolve({
        exitCode: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0),
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        timedOut,
        cancelled,
        durationMs: Date.now() - started,
        pid: child.pid,
      });
    });
  });
}

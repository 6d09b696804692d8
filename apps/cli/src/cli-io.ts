import { ValidationError } from '@orch/errors';
import { ApiClient } from './api-client';

/** Where a command writes and what it knows of its terminal; tests pass arrays and a fixed environment. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal: progress is redrawn in place with ANSI codes instead of printed line by line. */
  tty?: boolean;
  columns?: number;
  rows?: number;
  /** Aborted on Ctrl+C: a watch stops following (the run goes on) instead of the process dying mid-line. */
  signal?: AbortSignal;
}

/** Options most API commands share. */
export interface Flags {
  watch?: boolean;
  json?: boolean;
}

/** What every command module gets from `runCli`. */
export interface CommandContext {
  io: CliIo;
  /** The API client, built on first use from ORCHESTRATOR_URL and ORCHESTRATOR_API_KEY. */
  client(): ApiClient;
  /** The process exit code once the command returns. */
  exit(code: number): void;
}

export function createContext(io: CliIo, exit: (code: number) => void): CommandContext {
  let client: ApiClient | undefined;
  return {
    io,
    client: () => {
      client ??= ApiClient.fromEnv(io.env);
      return client;
    },
    exit,
  };
}

/** Pretty JSON on stdout, for `--json`. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** commander collector for the repeatable `--var key=value`. */
export function collectVar(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new ValidationError(`--var takes key=value; got '${value}'`, []);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** Parses a JSON option value, with an error that names the option. */
export function jsonOption(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`${name} must be JSON`, [{ pointer: '', message: (error as Error).message }]);
  }
}

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(io: CliIo): boolean {
  return io.tty === true && !io.env.NO_COLOR;
}

/** Exit codes of a finished run: 0 completed, 1 failed, 2 cancelled or timed out. */
export function exitCodeFor(status: string): number {
  if (status === 'completed') return 0;
  if (status === 'cancelled' || status === 'timed_out') return 2;
  return 1;
}

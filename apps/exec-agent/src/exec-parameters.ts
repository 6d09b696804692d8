import { ServiceCallError } from '@orch/messaging';
import type { InputFile } from './request-workspace';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ExecParameters {
  image: string;
  command: string[];
  files: InputFile[];
  env: Record<string, string>;
  timeoutMs?: number;
  /** The task asks for network access (`network: true`); the operator decides with EXEC_NETWORK. */
  network: boolean;
}

export function readParameters(p: Record<string, unknown>): ExecParameters {
  const bad = (message: string) => new ServiceCallError('BAD_REQUEST', message, { retryable: false });
  const { image, command, files = [], env = {}, timeout_ms: timeoutMs, network = false } = p;
  if (typeof image !== 'string' || image.length === 0) throw bad('image must be a non-empty string');
  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string')) {
    throw bad('command must be a non-empty array of strings (an argv, never a shell string)');
  }
  if (!Array.isArray(files) || !files.every(isInputFile)) throw bad('files must be a list of {name, content} strings');
  if (!env || typeof env !== 'object' || Array.isArray(env)) throw bad('env must be an object of strings');
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name) || typeof value !== 'string') throw bad(`env ${JSON.stringify(name)} must name a string`);
  }
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0))) {
    throw bad('timeout_ms must be a positive number');
  }
  if (typeof network !== 'boolean') throw bad('network must be true or false');
  return { image, command, files, env: env as Record<string, string>, timeoutMs, network };
}

function isInputFile(value: unknown): value is InputFile {
  const file = value as InputFile;
  return !!file && typeof file === 'object' && typeof file.name === 'string' && typeof file.content === 'string';
}

/** Nothing of the agent's own environment (credentials, REDIS_*) leaks into commands: PATH, HOME, LANG, the request's. */
export function localEnv(dir: string, requested: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    LANG: process.env.LANG ?? 'C.UTF-8',
    ...requested,
  };
}

export function tail(text: string, prefix: string, max = 500): string {
  const trimmed = text.trim();
  if (!trimmed) return '';
  return prefix + (trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed);
}

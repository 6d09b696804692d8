import { EventEmitter } from 'node:events';
import type { Logger } from '@orch/logger';
import { SERVICE_CHANNELS, ServiceCallError, type ServiceRequest, ServiceResponder } from '@orch/messaging';
import type { RedisSettings } from '@orch/redis';
import type { Redis } from 'ioredis';
import { DockerRunner } from './docker-runner';
import { runLocal } from './local-runner';
import { type InputFile, type OutputFile, RequestWorkspace } from './request-workspace';
import type { RunOutcome, RunSpec } from './run-outcome';

export type ExecMode = 'docker' | 'local';

export interface ExecAgentOptions {
  /** ORCHESTRATOR_WORKSPACE: request directories are made under it. */
  workspaceDir: string;
  logger: Logger;
  redis?: RedisSettings;
  publisher?: Redis;
  subscriber?: Redis;
  /** `auto` (default) uses Docker when an engine answers at start, local processes otherwise. */
  mode?: 'auto' | ExecMode;
  /** Per stream; more is dropped and the result says `truncated`. */
  maxOutputBytes?: number;
  /** For requests without a timeout; the request's deadline bounds it too. */
  defaultTimeoutMs?: number;
  /** Leave request directories behind, for debugging. */
  keepWorkspaces?: boolean;
}

/** The `run` operation's result. */
export interface ExecResult {
  exit_code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  files: OutputFile[];
  mode: ExecMode;
  duration_ms: number;
}

/** Emitted as `started` once the command runs, and `finished` when it ended (by itself, timeout or cancel). */
export interface ExecStarted {
  requestId: string;
  pid?: number;
  dir: string;
}
export interface ExecFinished {
  requestId: string;
  outcome: RunOutcome;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MiB = 1024 * 1024;

/**
 * The exec-agent: runs `exec` tasks. Files go to `<request dir>/input/`, the command runs in a container (the
 * request directory mounted at /workspace) or, without a Docker engine, as a local process in its own process
 * group with a scrubbed environment, `/workspace/...` arguments pointing into the request directory. Local mode
 * runs commands as this process's user: it is for development, not for untrusted workflows.
 */
export class ExecAgent extends EventEmitter {
  private readonly responder: ServiceResponder;
  private readonly options: ExecAgentOptions;
  private readonly logger: Logger;
  private docker?: DockerRunner;
  private currentMode?: ExecMode;

  constructor(options: ExecAgentOptions) {
    super();
    this.options = options;
    this.logger = options.logger;
    this.responder = new ServiceResponder({
      channel: SERVICE_CHANNELS.exec.requests,
      service: SERVICE_CHANNELS.exec.service,
      logger: options.logger,
      redis: options.redis,
      publisher: options.publisher,
      subscriber: options.subscriber,
      handler: (request, signal) => this.handle(request, signal),
    });
  }

  /** Which runner requests use; known after start(). */
  get mode(): ExecMode | undefined {
    return this.currentMode;
  }

  /** The responder, for tests that wait on its events. */
  get service(): ServiceResponder {
    return this.responder;
  }

  async start(): Promise<void> {
    const wanted = this.options.mode ?? 'auto';
    if (wanted !== 'local') this.docker = await DockerRunner.detect();
    if (wanted === 'docker' && !this.docker) throw new Error('exec-agent: no Docker engine answers');
    this.currentMode = this.docker ? 'docker' : 'local';
    if (this.currentMode === 'local') {
      this.logger.warn('no Docker engine: commands run as local processes of this user (development only)');
    }
    await this.responder.start();
  }

  close(): Promise<void> {
    return this.responder.close();
  }

  private async handle(request: ServiceRequest, signal: AbortSignal): Promise<ExecResult> {
    if (request.operation !== 'run') {
      throw new ServiceCallError('BAD_REQUEST', `unknown operation '${request.operation}'; the exec-agent runs 'run'`, {
        retryable: false,
      });
    }
    const params = readParameters(request.parameters);
    const mode = this.currentMode ?? 'local';
    const timeoutMs = Math.max(
      1,
      Math.min(params.timeoutMs ?? this.options.defaultTimeoutMs ?? 600_000, request.deadline - Date.now()),
    );
    const workspace = await RequestWorkspace.create(this.options.workspaceDir, params.files);
    const log = this.logger.child({ request_id: request.request_id, execution_id: request.execution_id });
    try {
      const spec: RunSpec = {
        argv: mode === 'local' ? workspace.rewritePaths(params.command) : params.command,
        dir: workspace.dir,
        env: mode === 'local' ? localEnv(workspace.dir, params.env) : { ...params.env },
        image: params.image,
        timeoutMs,
        maxOutputBytes: this.options.maxOutputBytes ?? MiB,
        signal,
        onStart: (pid) => this.emit('started', { requestId: request.request_id, pid, dir: workspace.dir }),
      };
      log.info('running command', { mode, image: params.image, argv0: params.command[0], timeout_ms: timeoutMs });
      const outcome = mode === 'docker' && this.docker ? await this.docker.run(spec) : await runLocal(spec);
      this.emit('finished', { requestId: request.request_id, outcome } satisfies ExecFinished);
      log.info('command ended', {
        exit_code: outcome.exitCode,
        timed_out: outcome.timedOut,
        cancelled: outcome.cancelled,
        ms: outcome.durationMs,
      });
      if (outcome.cancelled) throw signal.reason ?? new Error('cancelled');
      if (outcome.timedOut) {
        throw new ServiceCallError(
          'TIMEOUT',
          `command timed out after ${timeoutMs} ms and was killed${tail(outcome.stderr, '; stderr: ')}`,
          { retryable: true },
        );
      }
      return {
        exit_code: outcome.exitCode,
        signal: outcome.signal,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        truncated: outcome.truncated,
        files: await workspace.collectOutputs({ maxFiles: 100, maxTextBytes: 64 * 1024, maxTotalTextBytes: MiB }),
        mode,
        duration_ms: outcome.durationMs,
      };
    } finally {
      if (!this.options.keepWorkspaces) await workspace.remove().catch(() => undefined);
    }
  }
}

interface ExecParameters {
  image: string;
  command: string[];
  files: InputFile[];
  env: Record<string, string>;
  timeoutMs?: number;
}

function readParameters(p: Record<string, unknown>): ExecParameters {
  const bad = (message: string) => new ServiceCallError('BAD_REQUEST', message, { retryable: false });
  const { image, command, files = [], env = {}, timeout_ms: timeoutMs } = p;
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
  return { image, command, files, env: env as Record<string, string>, timeoutMs };
}

function isInputFile(value: unknown): value is InputFile {
  const file = value as InputFile;
  return !!file && typeof file === 'object' && typeof file.name === 'string' && typeof file.content === 'string';
}

/** Nothing of the agent's own environment (credentials, REDIS_*) leaks into commands: PATH, HOME, LANG, the request's. */
function localEnv(dir: string, requested: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    LANG: process.env.LANG ?? 'C.UTF-8',
    ...requested,
  };
}

function tail(text: string, prefix: string, max = 500): string {
  const trimmed = text.trim();
  if (!trimmed) return '';
  return prefix + (trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed);
}

import { EventEmitter } from 'node:events';
import { chmod, mkdir } from 'node:fs/promises';
import { type ExecSettings, loadConfig } from '@orch/config';
import type { Logger } from '@orch/logger';
import {
  type OutputSink,
  SERVICE_CHANNELS,
  ServiceCallError,
  type ServiceRequest,
  ServiceResponder,
} from '@orch/messaging';
import type { RedisClient, RedisSettings } from '@orch/redis';
import { DockerRunner } from './docker-runner';
import { type ExecParameters, localEnv, readParameters, tail } from './exec-parameters';
import { runLocal } from './local-runner';
import { OutputStreamer } from './output-streamer';
import { type OutputFile, RequestWorkspace } from './request-workspace';
import type { RunOutcome, RunSpec } from './run-outcome';
import { ExecAgentStartError, isRoot, prepareWorkspace, Sandbox } from './sandbox';

/** `sandbox`: bubblewrap; `local`: plain processes of this user (EXEC_UNSANDBOXED=true); `docker`: containers. */
export type ExecMode = 'docker' | 'sandbox' | 'local';

export interface ExecAgentOptions {
  /** ORCHESTRATOR_WORKSPACE: request directories are made under it. */
  workspaceDir: string;
  logger: Logger;
  redis?: RedisSettings;
  publisher?: RedisClient;
  subscriber?: RedisClient;
  /** SERVICE_SECRET: only requests signed with it run. Required: without it start() refuses. */
  secret?: string;
  /** EXEC_* settings; the defaults of @orch/config where left out. */
  exec?: Partial<ExecSettings>;
  /**
   * `auto` (default): Docker when an engine answers at start, else the bubblewrap sandbox, or plain processes when
   * EXEC_UNSANDBOXED=true. A mode that cannot be had makes start() fail.
   */
  mode?: 'auto' | ExecMode;
  /** Per stream; more is dropped and the result says `truncated`. */
  maxOutputBytes?: number;
  /** For requests without a timeout; the request's deadline bounds it too. */
  defaultTimeoutMs?: number;
  /** Leave request directories behind, for debugging. */
  keepWorkspaces?: boolean;
  /** Where bwrap is, when not /usr/bin/bwrap or on PATH. */
  bwrap?: string;
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

const MiB = 1024 * 1024;

/**
 * The exec-agent: runs `exec` tasks. Files go to `<request dir>/input/`, which the command sees read-only at
 * /workspace/input; what it writes to /workspace/output is returned. By default every command runs in a sandbox
 * (sandbox.ts: bubblewrap, an unprivileged user, its own namespaces, no network, limits) or a locked-down container
 * (docker-runner.ts). Only signed requests (SERVICE_SECRET) run.
 */
export class ExecAgent extends EventEmitter {
  private readonly responder: ServiceResponder;
  private readonly options: ExecAgentOptions;
  private readonly settings: ExecSettings;
  private readonly logger: Logger;
  private docker?: DockerRunner;
  private sandbox?: Sandbox;
  private currentMode?: ExecMode;

  constructor(options: ExecAgentOptions) {
    super();
    this.options = options;
    this.settings = { ...loadConfig({}).exec, ...options.exec };
    this.logger = options.logger;
    this.responder = new ServiceResponder({
      channel: SERVICE_CHANNELS.exec.requests,
      service: SERVICE_CHANNELS.exec.service,
      logger: options.logger,
      redis: options.redis,
      publisher: options.publisher,
      subscriber: options.subscriber,
      secret: options.secret,
      handler: (request, signal, output) => this.handle(request, signal, output),
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

  /** The uid commands run as (in the sandbox or the container). */
  get commandUid(): number {
    return isRoot() ? this.settings.uid : (process.getuid?.() ?? this.settings.uid);
  }

  async start(): Promise<void> {
    if (!this.options.secret) {
      throw new ExecAgentStartError(
        'SERVICE_SECRET is not set, so anyone able to PUBLISH on exec-requests could run commands; give the workers and the exec-agent the same SERVICE_SECRET (openssl rand -hex 32; orchestrator up makes one)',
      );
    }
    await mkdir(this.options.workspaceDir, { recursive: true, mode: 0o700 });
    // The sandbox user must pass through the workspace to its request directory, not list it.
    if (isRoot()) await chmod(this.options.workspaceDir, 0o711);
    this.currentMode = await this.pickMode(this.options.mode ?? 'auto');
    if (this.currentMode === 'local') {
      this.logger.warn(
        'EXEC_UNSANDBOXED=true: commands run as plain processes of this user, with its network and files (trusted single user only)',
      );
    }
    await this.responder.start();
  }

  close(): Promise<void> {
    return this.responder.close();
  }

  private async pickMode(wanted: 'auto' | ExecMode): Promise<ExecMode> {
    if (wanted === 'docker' || wanted === 'auto') {
      this.docker = await DockerRunner.detect(this.settings, this.commandUid);
      if (this.docker) return 'docker';
      if (wanted === 'docker') throw new Error('exec-agent: no Docker engine answers');
    }
    if (wanted === 'local' || (wanted === 'auto' && this.settings.unsandboxed)) return 'local';
    // Throws ExecAgentStartError naming what is missing.
    this.sandbox = await Sandbox.detect({
      limits: this.settings,
      uid: this.settings.uid,
      bwrap: this.options.bwrap,
      workspace: this.options.workspaceDir,
    });
    return 'sandbox';
  }

  private async handle(request: ServiceRequest, signal: AbortSignal, output: OutputSink): Promise<ExecResult> {
    if (request.operation !== 'run') {
      throw new ServiceCallError('BAD_REQUEST', `unknown operation '${request.operation}'; the exec-agent runs 'run'`, {
        retryable: false,
      });
    }
    const params = readParameters(request.parameters);
    if (params.network && this.settings.network !== 'allowed') {
      throw new ServiceCallError(
        'BAD_REQUEST',
        'the task asks for network access (network: true) but this exec-agent runs with EXEC_NETWORK=none',
        { retryable: false },
      );
    }
    const mode = this.currentMode ?? 'sandbox';
    const timeoutMs = Math.max(
      1,
      Math.min(params.timeoutMs ?? this.options.defaultTimeoutMs ?? 600_000, request.deadline - Date.now()),
    );
    const workspace = await RequestWorkspace.create(this.options.workspaceDir, params.files);
    const log = this.logger.child({ request_id: request.request_id, execution_id: request.execution_id });
    try {
      if (mode !== 'local') await prepareWorkspace(workspace.dir, this.settings.uid);
      const spec = this.spec(mode, params, workspace, timeoutMs, signal, request.request_id);
      // The output as it comes, so the caller's task log follows the command live; the result still holds it all.
      const streamer = new OutputStreamer(output);
      spec.onOutput = streamer.write;
      log.info('running command', { mode, image: params.image, argv0: params.command[0], timeout_ms: timeoutMs });
      const outcome = await this.runner(mode)(spec).finally(() => streamer.end());
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

  private spec(
    mode: ExecMode,
    params: ExecParameters,
    workspace: RequestWorkspace,
    timeoutMs: number,
    signal: AbortSignal,
    requestId: string,
  ): RunSpec {
    const local = mode === 'local';
    return {
      // Sandboxes and containers see /workspace itself; a plain process gets the paths rewritten.
      argv: local ? workspace.rewritePaths(params.command) : params.command,
      dir: workspace.dir,
      env: local ? localEnv(workspace.dir, params.env) : { ...params.env },
      image: params.image,
      timeoutMs,
      maxOutputBytes: this.options.maxOutputBytes ?? MiB,
      signal,
      network: params.network,
      onStart: (pid) => this.emit('started', { requestId, pid, dir: workspace.dir } satisfies ExecStarted),
    };
  }

  private runner(mode: ExecMode): (spec: RunSpec) => Promise<RunOutcome> {
    if (mode === 'docker' && this.docker) return (spec) => (this.docker as DockerRunner).run(spec);
    if (mode === 'sandbox' && this.sandbox) return (spec) => (this.sandbox as Sandbox).run(spec);
    return runLocal;
  }
}

import type { Logger } from '@orch/logger';
import type { WorkerHeartbeat, WorkerRegistry } from './worker-registry';

/** Default period of a worker's heartbeat: it is listed as lost 15 s after its last one. */
export const HEARTBEAT_MS = 5000;

/** Writes a worker's entry in the registry now and every `intervalMs`; `stop` removes it. */
export class HeartbeatLoop {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<unknown>;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly entry: () => Omit<WorkerHeartbeat, 'at'>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      // One beat at a time; a failed one (Redis away) is logged and the next tick tries again.
      this.beating ??= this.beat()
        .catch((error: Error) => this.logger.debug('heartbeat failed', { error: error.message }))
        .finally(() => {
          this.beating = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  private beat(): Promise<void> {
    return this.registry.beat({ ...this.entry(), at: Date.now() });
  }

  /** Stops beating and takes the entry out: a worker that closes is gone, not lost. */
  async stop(name: string): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    await this.registry.remove(name).catch(() => undefined);
  }
}

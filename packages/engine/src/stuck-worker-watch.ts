import type { Logger } from '@orch/logger';
import type { RedisClient } from '@orch/redis';

/** One BullMQ task Worker as the watch sees it. */
export interface WatchedWorker {
  /** Its queue's wait list (jobs ready for a worker). */
  waitKey: string;
  /** Jobs it has started so far, and runs now. */
  starts: number;
  running: number;
}

/** How often the watch looks; a worker is replaced after two looks in a row found it stuck. */
export const STUCK_WATCH_MS = 5_000;

/**
 * Replaces a task Worker that takes no job while its queue has jobs waiting and it runs none: seen after a Redis
 * Cluster failover, when a Worker's in-flight command to the dead primary never settled and BullMQ, counting it as
 * busy, fetched nothing more. Two looks in a row (at least STUCK_WATCH_MS apart) with jobs waiting and no start are
 * far more than a healthy Worker takes (it is woken at once, or after its 5 s drain delay at most).
 */
export class StuckWorkerWatch<W extends WatchedWorker> {
  private timer?: NodeJS.Timeout;
  private looking?: Promise<void>;
  private readonly seen = new Map<W, { starts: number; suspect: boolean }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly watched: () => readonly W[],
    private readonly replace: (worker: W) => void,
    private readonly logger: Logger,
    private readonly everyMs = STUCK_WATCH_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.looking ??= this.look()
        .catch((error: Error) => {
          this.logger.debug('stuck worker watch failed', { error: error.message });
        })
        .finally(() => {
          this.looking = undefined;
        });
    }, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.looking;
  }

  private async look(): Promise<void> {
    const workers = this.watched();
    const waiting = await Promise.all(workers.map((w) => this.redis.llen(w.waitKey)));
    for (const [i, worker] of workers.entries()) {
      const before = this.seen.get(worker);
      const idleWithWork = (waiting[i] ?? 0) > 0 && worker.running === 0 && before?.starts === worker.starts;
      if (idleWithWork && before?.suspect) {
        this.seen.delete(worker);
        this.replace(worker);
        continue;
      }
      this.seen.set(worker, { starts: worker.starts, suspect: idleWithWork });
    }
    for (const worker of this.seen.keys()) if (!workers.includes(worker)) this.seen.delete(worker);
  }
}

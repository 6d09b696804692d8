import { OrchestratorError } from '@orch/errors';
import type { Logger } from '@orch/logger';

/** How often the backlog is read from Redis while submits arrive (six cheap reads each time, per API replica). */
export const SAMPLE_MS = 100;

export interface BacklogReading {
  waitingJobs: number;
  pendingRuns: number;
}

export interface BackpressureOptions {
  /** Reads the backlog (the engine's `backlog()`). */
  read: () => Promise<BacklogReading>;
  /** At or above this many waiting jobs plus pending runs, submits wait, then get 429. 0: off. */
  highWater: number;
  /** How long a submit is held waiting for the backlog to fall below the mark before it is refused. */
  holdMs: number;
  logger: Logger;
  /** Told of each submit held and each one refused (the API's metrics). */
  observe?: (outcome: 'held' | 'refused') => void;
  sampleMs?: number;
}

/**
 * Admission for submits: an API that accepts runs faster than the workers run them only builds a backlog, so every
 * run waits longer. The signal is measured, not guessed: the jobs waiting in the tasks and workflows queues plus the
 * runs waiting for a slot, sampled every 100 ms while submits arrive (plus the runs this replica accepted since). While
 * it is above the high-water mark a submit is held until a sample shows room (at most `holdMs`), which slows a
 * client that waits for its answers to the rate the workers keep up with; one still waiting then gets 429 with a
 * Retry-After of the time the backlog took to drain so far.
 */
export class Backpressure {
  private backlog = 0;
  private sampledAt = 0;
  private sampling?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly held = new Set<() => void>();
  /** Backlog drained per second, from the last two samples that saw it fall (for Retry-After). */
  private drainPerS = 0;
  private closed = false;

  constructor(private readonly options: BackpressureOptions) {}

  get enabled(): boolean {
    return this.options.highWater > 0;
  }

  /** The last measured backlog plus what this replica added since. */
  get current(): number {
    return this.backlog;
  }

  /**
   * Resolves when a submit of `runs` runs may go ahead; throws a 429 OrchestratorError (with `retryAfterS`) when
   * the backlog stayed above the mark for `holdMs`, or when `signal` aborted while it was held.
   */
  async admit(runs: number, signal?: AbortSignal): Promise<void> {
    if (!this.enabled) return;
    await this.fresh();
    if (this.backlog >= this.options.highWater) await this.hold(signal);
    this.backlog += runs;
  }

  /** Stops sampling and lets held submits go on (a closing API answers them as usual). Idempotent. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const release of [...this.held]) release();
  }

  private async hold(signal?: AbortSignal): Promise<void> {
    const until = Date.now() + this.options.holdMs;
    this.options.logger.debug('submit held: the backlog is above the high-water mark', {
      backlog: this.backlog,
      high_water: this.options.highWater,
    });
    this.options.observe?.('held');
    while (this.backlog >= this.options.highWater && !this.closed) {
      if (signal?.aborted || Date.now() >= until) {
        this.options.observe?.('refused');
        throw this.refusal();
      }
      await new Promise<void>((resolve) => {
        const release = () => {
          this.held.delete(release);
          resolve();
        };
        this.held.add(release);
        this.schedule();
      });
    }
  }

  private refusal(): OrchestratorError {
    const { highWater } = this.options;
    const excess = this.backlog - highWater + 1;
    const retryAfterS = Math.min(60, Math.max(1, Math.ceil(this.drainPerS > 0 ? excess / this.drainPerS : 1)));
    return new OrchestratorError(
      'TOO_MANY_REQUESTS',
      `the workers are behind: ${this.backlog} tasks and runs wait to start, above ORCHESTRATOR_BACKLOG_HIGH_WATER ` +
        `(${highWater}); try again after ${retryAfterS} s`,
      { retryAfterS },
    );
  }

  /** A sample no older than the interval: read now if the last one is older (one read at a time). */
  private async fresh(): Promise<void> {
    if (Date.now() - this.sampledAt < (this.options.sampleMs ?? SAMPLE_MS)) return;
    await this.sample();
  }

  /** Held submits are rechecked after each sample; a sample is taken every interval while any is held. */
  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sample().finally(() => {
        for (const release of [...this.held]) release();
      });
    }, this.options.sampleMs ?? SAMPLE_MS);
  }

  private sample(): Promise<void> {
    this.sampling ??= (async () => {
      try {
        const { waitingJobs, pendingRuns } = await this.options.read();
        const now = Date.now();
        const next = waitingJobs + pendingRuns;
        const seconds = (now - this.sampledAt) / 1000;
        if (next < this.backlog && seconds > 0 && seconds < 5) this.drainPerS = (this.backlog - next) / seconds;
        this.backlog = next;
        this.sampledAt = now;
      } catch (error) {
        // Redis trouble: the submit itself fails with 503 if Redis is gone; admission does not decide that.
        this.options.logger.debug('backlog sample failed', { error: (error as Error).message });
        this.sampledAt = Date.now();
      } finally {
        this.sampling = undefined;
      }
    })();
    return this.sampling;
  }
}

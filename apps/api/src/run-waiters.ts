import type { RecordHashes } from '@orch/engine';

/**
 * How a wait for a run's end ended: the run finished (with its final status and, when its finished message carried
 * it, its final record's hashes), or the wait ran out first.
 */
export type WaitOutcome = { finished: true; status: string; record?: RecordHashes } | { finished: false };

interface Waiter {
  resolve(outcome: WaitOutcome): void;
}

/**
 * Requests waiting for runs to end (submit and wait), woken by the finished channel the API already subscribes to:
 * the engine publishes one message per ended run, so a wait costs Redis nothing while it waits. A waiter is
 * registered under the run's id before the run is submitted, so a run that ends before the submit returns still
 * wakes it.
 */
export class RunWaiters {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private closed = false;

  get size(): number {
    return this.waiters.size;
  }

  /**
   * Starts waiting for `id` now; `until(ms, signal)` then resolves when it ends, when `ms` pass, when `signal`
   * aborts, or when the API closes. `cancel()` stops waiting without an outcome (the submit failed).
   */
  expect(id: string): { until(ms: number, signal?: AbortSignal): Promise<WaitOutcome>; cancel(): void } {
    let settle: (outcome: WaitOutcome) => void = () => undefined;
    const outcome = new Promise<WaitOutcome>((resolve) => {
      settle = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const waiter: Waiter = {
      resolve: (result) => {
        clearTimeout(timer);
        this.remove(id, waiter);
        settle(result);
      },
    };
    if (this.closed) waiter.resolve({ finished: false });
    else this.add(id, waiter);
    return {
      until: (ms, signal) => {
        timer = setTimeout(() => waiter.resolve({ finished: false }), ms);
        if (signal?.aborted) waiter.resolve({ finished: false });
        signal?.addEventListener('abort', () => waiter.resolve({ finished: false }), { once: true });
        return outcome;
      },
      cancel: () => waiter.resolve({ finished: false }),
    };
  }

  /** A run ended (a message of the finished channel): wakes whoever waits for it. `record` is read only then. */
  finished(id: string, status: string, record?: () => RecordHashes | undefined): void {
    const waiting = this.waiters.get(id);
    if (!waiting) return;
    const hashes = record?.();
    for (const waiter of [...waiting])
      waiter.resolve({ finished: true, status, ...(hashes ? { record: hashes } : {}) });
  }

  /** Ends every wait as not finished (their requests answer 202 at once) and refuses new ones. Idempotent. */
  close(): void {
    this.closed = true;
    for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.resolve({ finished: false });
  }

  private add(id: string, waiter: Waiter): void {
    let set = this.waiters.get(id);
    if (!set) {
      set = new Set();
      this.waiters.set(id, set);
    }
    set.add(waiter);
  }

  private remove(id: string, waiter: Waiter): void {
    const set = this.waiters.get(id);
    if (!set?.delete(waiter)) return;
    if (set.size === 0) this.waiters.delete(id);
  }
}

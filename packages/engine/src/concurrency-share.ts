import type { Worker } from 'bullmq';

/**
 * A worker process's concurrency for one task queue (WORKER_CONCURRENCY), shared by that queue's BullMQ Workers in
 * every partition the process serves. Each Worker may run what it runs now plus an even part of what is spare, so
 * a busy partition takes up what idle ones leave (a single big run gets the whole process), and all of them
 * together start at most about `total` plus one per partition. Recomputed whenever a job starts or ends.
 */
export class ConcurrencyShare {
  private readonly active = new Map<Worker, number>();
  private busy = 0;

  constructor(private readonly total: number) {}

  /** What a new Worker starts with, before any job ran. */
  get initial(): number {
    return Math.max(1, Math.ceil(this.total / Math.max(1, this.active.size + 1)));
  }

  add(worker: Worker): void {
    this.active.set(worker, 0);
    this.rebalance();
  }

  /** Drops a Worker that is being replaced; what it ran no longer counts. */
  remove(worker: Worker): void {
    this.busy = Math.max(0, this.busy - (this.active.get(worker) ?? 0));
    this.active.delete(worker);
    if (this.active.size > 0) this.rebalance();
  }

  started(worker: Worker): void {
    this.active.set(worker, (this.active.get(worker) ?? 0) + 1);
    this.busy++;
    this.rebalance();
  }

  /**
   * Takes a slot for a task a job runs inline beside its own (a ready dependent carried in parallel), when one is
   * spare: it counts as busy, so the Workers fetch that much less. One slot is never lent: a Worker may already be
   * blocked fetching into it (BullMQ checks its concurrency when a fetch starts, not when a job arrives). False when
   * no slot is left to lend.
   */
  borrow(): boolean {
    if (this.busy >= this.total - 1) return false;
    this.busy++;
    if (this.active.size > 0) this.rebalance();
    return true;
  }

  /** Gives back a slot `borrow` took. */
  giveBack(): void {
    this.busy = Math.max(0, this.busy - 1);
    if (this.active.size > 0) this.rebalance();
  }

  ended(worker: Worker): void {
    if (!this.active.has(worker)) return; // removed meanwhile
    this.active.set(worker, Math.max(0, (this.active.get(worker) ?? 0) - 1));
    this.busy = Math.max(0, this.busy - 1);
    this.rebalance();
  }

  private rebalance(): void {
    const each = Math.ceil(Math.max(0, this.total - this.busy) / this.active.size);
    for (const [worker, running] of this.active) worker.concurrency = Math.max(1, running + each);
  }
}

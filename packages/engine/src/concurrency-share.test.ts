import type { Worker } from 'bullmq';
import { ConcurrencyShare } from './concurrency-share';

/** Stand-ins for BullMQ Workers: the share only sets their concurrency. */
const workers = (n: number) => Array.from({ length: n }, () => ({ concurrency: 1 }) as unknown as Worker);

/** Jobs each stand-in runs now. */
const running = new Map<Worker, number>();

/** Starts jobs on `worker` as a BullMQ Worker would: while it runs fewer than its concurrency. */
function saturate(share: ConcurrencyShare, worker: Worker): number {
  let started = 0;
  while ((running.get(worker) ?? 0) < worker.concurrency) {
    share.started(worker);
    running.set(worker, (running.get(worker) ?? 0) + 1);
    started++;
  }
  return started;
}

describe('ConcurrencyShare', () => {
  it('gives a single partition the whole concurrency', () => {
    const share = new ConcurrencyShare(50);
    const [only] = workers(1) as [Worker];
    share.add(only);
    expect(only.concurrency).toBe(50);
    expect(saturate(share, only)).toBe(50);
  });

  it('splits idle capacity evenly and lets one busy partition take all of it', () => {
    const share = new ConcurrencyShare(50);
    const all = workers(16);
    for (const w of all) share.add(w);
    expect(all.map((w) => w.concurrency)).toEqual(Array(16).fill(4));
    const [busy, ...idle] = all as [Worker, ...Worker[]];
    // One big run in one partition ramps up to the process's concurrency, not its 1/16th.
    expect(saturate(share, busy)).toBe(50);
    expect(idle.map((w) => w.concurrency)).toEqual(Array(15).fill(1));
    // As its jobs end the spare capacity goes back to every partition.
    for (let i = 0; i < 50; i++) share.ended(busy);
    running.set(busy, 0);
    expect(all.map((w) => w.concurrency)).toEqual(Array(16).fill(4));
  });

  it('keeps two busy partitions together within the total plus one job per partition', () => {
    const share = new ConcurrencyShare(20);
    const all = workers(4);
    for (const w of all) share.add(w);
    const [a, b] = all as [Worker, Worker];
    let running = 0;
    for (let round = 0; round < 10; round++) running += saturate(share, a) + saturate(share, b);
    expect(running).toBeGreaterThanOrEqual(20);
    expect(running).toBeLessThanOrEqual(20 + all.length);
  });

  it('lends spare slots to inline tasks, which the Workers then do not fetch for, and takes none past the total', () => {
    const share = new ConcurrencyShare(10);
    const [only] = workers(1) as [Worker];
    share.add(only);
    running.set(only, 0);
    for (let i = 0; i < 4; i++) share.started(only);
    running.set(only, 4);
    const lent = Array.from({ length: 8 }, () => share.borrow());
    // Five of the six free slots: one is kept for a fetch the Worker may have under way.
    expect(lent).toEqual([true, true, true, true, true, false, false, false]);
    expect(only.concurrency).toBe(5);
    expect(saturate(share, only)).toBe(1);
    share.giveBack();
    share.giveBack();
    expect(only.concurrency).toBe(7);
    expect(saturate(share, only)).toBe(2);
    expect(share.borrow()).toBe(false);
  });
});

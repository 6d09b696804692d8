import { createRedisConnection } from '@orch/redis';
import { waitUntil, withDeadline } from '@orch/testing';
import { RecoveryManager } from './recovery/recovery-manager';
import { type Harness, startHarness, wf } from './testing';

jest.setTimeout(120_000);

// Long enough that no write a starved worker makes just after a run ends lands after its keys expired (which would
// recreate a key without a TTL; in production the TTL is hours). 1.5 s failed once on a loaded machine (900 of 1,000).
const TTL_MS = 4000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ executionTtlMs: TTL_MS });
  await h.startWorker({ concurrency: 50 });
  await h.connection.config('SET', 'notify-keyspace-events', 'Ex');
});
afterAll(() => h.stop());

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await h.connection.info('memory'))?.[1]);

const twoTasks = () =>
  wf([
    { id: 'a', type: 'transform', parameters: { output: 'x' } },
    { id: 'b', type: 'transform', depends_on: ['a'], parameters: { output: '${a.output}' } },
  ]);

/** Runs `count` short runs to the end, waits for Redis to expire them, then runs a cleanup pass. */
async function runAndExpire(count: number) {
  const listener = createRedisConnection({ host: h.server.host, port: h.server.port }, 'worker');
  const pending = new Set<string>();
  let allExpired: () => void = () => undefined;
  const expired = new Promise<void>((resolve) => {
    allExpired = resolve;
  });
  listener.on('message', (_channel: string, key: string) => {
    if (pending.delete(key) && pending.size === 0) allExpired();
  });
  await listener.subscribe('__keyevent@0__:expired');
  const ids: string[] = [];
  for (let batch = 0; batch < count / 100; batch++) {
    const submitted = await Promise.all(Array.from({ length: 100 }, () => h.submit(twoTasks())));
    for (const id of submitted) pending.add(h.ctx.keys.meta(id));
    ids.push(...submitted);
    for (const id of submitted) expect((await h.waitForEnd(id)).status).toBe('completed');
  }
  // Every key of a finished run carries the TTL, so Redis expires them: wait for every run's meta key to go.
  const ttls = await Promise.all(h.ctx.keys.executionKeys(ids.at(-1) as string).map((k) => h.connection.pttl(k)));
  for (const ttl of ttls) expect(ttl === -2 || (ttl > 0 && ttl <= TTL_MS)).toBe(true);
  for (const key of [...pending]) if ((await h.connection.exists(key)) === 0) pending.delete(key);
  if (pending.size > 0) await withDeadline(expired, 20_000, `expiry of ${pending.size} runs`);
  listener.disconnect();
  // A run ends when its last task is recorded, a moment before that task's job finishes: the pass cleans jobs older
  // than the TTL, so it waits for the newest to be (the next pass would clean it otherwise).
  const newest = Math.max(
    ...(await h.ctx.queues.tasks.getJobs(['completed'], 0, 100)).map((job) => job.finishedOn ?? 0),
    ...(await h.ctx.queues.workflows.getJobs(['completed'], 0, 100)).map((job) => job.finishedOn ?? 0),
  );
  await waitUntil(async () => Date.now() > newest + TTL_MS, TTL_MS + 5_000, 'the newest job to outlive the TTL');
  const report = await new RecoveryManager(h.ctx, h.kernel, {
    orphanAfterMs: 60_000,
    graceMs: 1000,
    strategy: 'resume',
  }).run();
  return { ids, report };
}

it('removes the keys, index entries and jobs of 1,000 finished runs once their TTL passes; memory returns to baseline', async () => {
  // A first round fills BullMQ's capped event streams, so the baseline includes them.
  await runAndExpire(200);
  const baseline = await usedMemory();
  const { report } = await runAndExpire(1000);
  expect(report.index_cleaned).toHaveLength(1000);
  expect(await h.connection.keys('test:x:*')).toEqual([]);
  expect(await h.connection.zcard(h.ctx.keys.index())).toBe(0);
  expect(await h.ctx.queues.tasks.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 });
  expect(await h.ctx.queues.workflows.getJobCounts('completed')).toEqual({ completed: 0 });
  const after = await usedMemory();
  // Flat: what 1,000 runs leave behind is allocator slack and stream trimming granularity, a few hundred KB at most
  // (a live run of two tasks holds about 7 KB).
  expect(after - baseline).toBeLessThan(300_000);
});

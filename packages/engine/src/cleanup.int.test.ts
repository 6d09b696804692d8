import { createRedisConnection } from '@orch/redis';
import { withDeadline } from '@orch/testing';
import { RecoveryManager } from './recovery-manager';
import { type Harness, startHarness, wf } from './test-harness';

jest.setTimeout(120_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ executionTtlMs: 1500 });
  await h.startWorker({ concurrency: 50 });
});
afterAll(() => h.stop());

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await h.connection.info('memory'))?.[1]);

it('removes the keys, index entries and jobs of 1,000 finished runs once their TTL passes', async () => {
  const baseline = await usedMemory();
  const ids: string[] = [];
  for (let batch = 0; batch < 10; batch++) {
    const submitted = await Promise.all(
      Array.from({ length: 100 }, () =>
        h.submit(
          wf([
            { id: 'a', type: 'transform', parameters: { output: 'x' } },
            { id: 'b', type: 'transform', depends_on: ['a'], parameters: { output: '${a.output}' } },
          ]),
        ),
      ),
    );
    ids.push(...submitted);
    for (const id of submitted) expect((await h.waitForEnd(id)).status).toBe('completed');
  }
  const live = await usedMemory();
  // Every key of a finished run carries the TTL...
  const ttls = await Promise.all(h.engine.keys.executionKeys(ids[0] as string).map((k) => h.connection.pttl(k)));
  for (const ttl of ttls) expect(ttl === -2 || (ttl > 0 && ttl <= 1500)).toBe(true);
  // ...so Redis expires them: wait for the expiry notifications of every run's meta key.
  const listener = createRedisConnection({ host: h.server.host, port: h.server.port }, 'worker');
  await h.connection.config('SET', 'notify-keyspace-events', 'Ex');
  const pending = new Set(ids.map((id) => h.engine.keys.meta(id)));
  const expired = new Promise<void>((resolve) => {
    listener.on('message', (_channel: string, key: string) => {
      pending.delete(key);
      if (pending.size === 0) resolve();
    });
  });
  await listener.subscribe('__keyevent@0__:expired');
  // Keys that expired before the subscription are simply gone already.
  const stillThere = await Promise.all([...pending].map(async (k) => [k, await h.connection.exists(k)] as const));
  for (const [k, exists] of stillThere) if (exists === 0) pending.delete(k);
  if (pending.size > 0) await withDeadline(expired, 20_000, `expiry of ${pending.size} runs`);
  listener.disconnect();

  const report = await new RecoveryManager(h.engine, {
    orphanAfterMs: 60_000,
    graceMs: 1000,
    strategy: 'resume',
  }).run();
  expect(report.index_cleaned).toHaveLength(1000);
  expect(report.jobs_cleaned.length).toBeGreaterThanOrEqual(1000); // workflow jobs and whatever task jobs remained
  const leftover = await h.connection.keys('test:x:*');
  expect(leftover).toEqual([]);
  expect(await h.connection.zcard(h.engine.keys.index())).toBe(0);
  const counts = await h.engine.queues.tasks.getJobCounts('completed', 'failed');
  expect(counts).toEqual({ completed: 0, failed: 0 });
  expect(await h.engine.queues.workflows.getJobCounts('completed')).toEqual({ completed: 0 });
  const after = await usedMemory();
  // Memory returns to the baseline (allowing allocator slack), far below what 1,000 live runs held.
  expect(after - baseline).toBeLessThan((live - baseline) / 4);
});

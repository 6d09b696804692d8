import type { TemplateDefinition } from '@orch/core';
import { createRedisConnection } from '@orch/redis';
import { byId, type Harness, internalsOf, probe, startHarness, wf } from './testing';
import { WorkflowEngine } from './workflow-engine';

jest.setTimeout(90_000);

const PARTITIONS = 4;
const child: TemplateDefinition = {
  id: 'child',
  name: 'Child',
  variables: [{ name: 'n', type: 'integer', required: true }],
  workflow: { id: 'child', tasks: [{ id: 'double', type: 'transform', parameters: { output: '${n * 2}' } }] },
};
const diamond = wf([probe('a'), probe('b', ['a']), probe('c', ['a']), probe('d', ['b', 'c'])]);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ partitions: PARTITIONS, maxConcurrentWorkflows: 40 });
});
afterAll(() => h.stop());

describe('runs spread over partitions (tagged keys, one set of queues per partition)', () => {
  const ids: string[] = [];

  it('runs diamonds in every partition, each run under its partition tag, workers split by partition', async () => {
    const low = await h.startWorker({ name: 'low', partitions: [0, 1] });
    const high = await h.startWorker({ name: 'high', partitions: [2, 3] });
    expect([low.partitions, high.partitions]).toEqual([
      [0, 1],
      [2, 3],
    ]);
    for (let i = 0; i < 40; i++) ids.push(await h.submit(diamond));
    const records = await Promise.all(ids.map((id) => h.waitForEnd(id, 60_000)));
    const perPartition = new Map<number, number>();
    const { parts } = internalsOf(h.engine);
    for (const record of records) {
      expect([record.execution_id, record.status]).toEqual([record.execution_id, 'completed']);
      expect(byId(record).d?.output).toBe(5); // 1 + (2 + 2)
      const p = h.engine.partitionOf(record.execution_id);
      perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
      // The run's keys carry its partition's tag, and its jobs ran on the worker serving that partition.
      const tag = parts[p]?.ctx.keys.tag as string;
      expect(await h.connection.exists(`test:x:{${tag}}:${record.execution_id}:meta`)).toBe(1);
      const workers = new Set(record.tasks.map((t) => t.worker));
      expect([...workers]).toEqual([p < 2 ? 'low' : 'high']);
    }
    expect([...perPartition.keys()].sort()).toEqual([0, 1, 2, 3]);
    await Promise.all([low.close(), high.close()]);
  });

  it('pages through the runs of all partitions newest first, each once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.engine.list({ limit: 7, cursor });
      seen.push(...page.items.map((i) => i.execution_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(ids.length);
    expect(new Set(seen)).toEqual(new Set(ids));
    const created = await Promise.all(seen.map(async (id) => Number((await h.engine.meta(id)).created_at)));
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('adds up the partitions in the operational state', async () => {
    const state = await h.engine.operationalState();
    expect(state.active).toBe(0);
    // Each run's root job is kept completed in its partition's queue: the sum is at least every run. Its workflow
    // job is gone: the job that recorded its last task ended the run and removed it.
    expect(state.queues.tasks.completed).toBeGreaterThanOrEqual(ids.length);
    expect(state.queues.workflows).toEqual(expect.objectContaining({ completed: 0, 'waiting-children': 0, active: 0 }));
  });

  it('answers one run to the same correlation id from two engines (API replicas)', async () => {
    const replica = new WorkflowEngine({
      connection: createRedisConnection({ host: h.server.host, port: h.server.port }, 'worker'),
      prefix: 'test',
      partitions: PARTITIONS,
      maxConcurrentWorkflows: 40,
      executionTtlMs: 600_000,
      defaultWorkflowTimeoutMs: 60_000,
    });
    try {
      const claim = (fingerprint: string) => ({ space: 'client', id: 'order-7', fingerprint }) as const;
      const { prepareInline } = await import('@orch/core');
      const [a, b] = await Promise.all([
        h.engine.submit(prepareInline(diamond), { claim: claim('x') }),
        replica.submit(prepareInline(diamond), { claim: claim('x') }),
      ]);
      expect(a.executionId).toBe(b.executionId);
      expect([a.created, b.created].sort()).toEqual([false, true]);
      // The id made for a claimed run before submitting lands in the claim's partition.
      const early = h.engine.newExecutionId(claim('y'));
      expect(h.engine.partitionOf(early)).toBe(h.engine.partitionOf(a.executionId));
    } finally {
      await replica.close();
      await internalsOf(replica).ctx.redis.quit();
    }
  });

  it('runs sub-workflows whose child lands in another partition', async () => {
    const worker = await h.startWorker({ templates: { child } });
    const parents = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        h.run(wf([{ id: 'sub', type: 'workflow', parameters: { template: 'child', variables: { n } } }]), {}, 60_000),
      ),
    );
    let crossing = 0;
    for (const [n, parent] of parents.entries()) {
      expect(parent.status).toBe('completed');
      const sub = byId(parent).sub?.output as { execution_id: string; outputs: Record<string, unknown> };
      expect(sub.outputs).toEqual({ double: n * 2 });
      if (h.engine.partitionOf(sub.execution_id) !== h.engine.partitionOf(parent.execution_id)) crossing++;
      expect((await h.engine.meta(sub.execution_id)).parent_execution_id).toBe(parent.execution_id);
    }
    expect(crossing).toBeGreaterThan(0);
    await worker.close();
  });

  it('cancels a child in another partition with its parent', async () => {
    const worker = await h.startWorker({
      templates: { child: { ...child, workflow: wf([probe('slow', [], { sleep_ms: 30_000 })]) } },
    });
    const id = await h.submit(
      wf([{ id: 'sub', type: 'workflow', parameters: { template: 'child', variables: { n: 1 } } }]),
    );
    await h.started('slow');
    await h.engine.cancel(id);
    const parent = await h.waitForEnd(id, 30_000);
    expect(parent.status).toBe('cancelled');
    const childId = (await h.engine.childRuns(id)).get('sub') as string;
    expect((await h.waitForEnd(childId, 30_000)).status).toBe('cancelled');
    await worker.close();
  });
});

import { waitUntil } from '@orch/testing';
import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ name: 'stock-1' });
});
afterAll(() => h.stop());

describe('task queues', () => {
  it('says no worker serves a queue, then runs the task on the worker that comes to serve it', async () => {
    const id = await h.submit(
      wf([probe('prep'), probe('train', ['prep'], {}, { queue: 'gpu' }), probe('report', ['train'])]),
    );
    await h.waitForEvent(id, (e) => e.type === 'task.completed' && e.task === 'prep');
    const stuck = await h.engine.get(id);
    expect(stuck.waiting_for).toBe('no worker serves queue gpu');
    expect(byId(stuck).train?.waiting_for).toEqual({
      kind: 'queue',
      queue: 'gpu',
      message: 'no worker serves queue gpu',
    });
    // The default worker never takes it: it is in the gpu queue only.
    expect(h.calls.filter((c) => c.task === 'train')).toHaveLength(0);

    await h.startWorker({ name: 'gpu-1', queues: ['gpu'] });
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('completed');
    expect(record.waiting_for).toBeUndefined();
    expect(byId(record).train).toMatchObject({ status: 'completed', worker: 'gpu-1' });
    expect(byId(record).prep?.worker).toBe('stock-1');
    expect(byId(record).report?.worker).toBe('stock-1');
  });

  it('sends a parallel task’s items to its queue too', async () => {
    const record = await h.run(
      wf([
        {
          id: 'fan',
          type: 'parallel',
          queue: 'gpu',
          parameters: { for_each: [1, 2], task: { type: 'transform', parameters: { output: '${item}' } } },
        },
      ]),
    );
    expect(record.status).toBe('completed');
    expect(byId(record).fan).toMatchObject({ worker: 'gpu-1', output: [1, 2] });
  });
});

describe('the workers registry', () => {
  it('lists live workers with their queues, and a worker silent for 3 heartbeats as lost', async () => {
    const listed = await h.engine.workers();
    expect(listed.map((w) => [w.name, w.status, w.queues])).toEqual([
      ['gpu-1', 'live', ['gpu']],
      ['stock-1', 'live', ['default']],
    ]);
    expect(listed[1]).toMatchObject({ pid: process.pid, concurrency: 50, kind: 'stock', active: 0 });
    expect(listed[1]?.task_types).toEqual(expect.arrayContaining(['http', 'exec', 'transform']));

    const gone = await h.startWorker({ name: 'short-lived', heartbeatMs: 100 });
    // A crash: its entry stays as it was, its beats stop.
    const internals = gone as unknown as { heartbeat: { stop(name: string): Promise<void> } };
    const registry = h.ctx.workers;
    const entry = (await registry.list()).find((w) => w.name === 'short-lived');
    expect(entry?.status).toBe('live');
    await internals.heartbeat.stop('nobody');
    const statusOf = async () => (await registry.list()).find((w) => w.name === 'short-lived')?.status;
    await waitUntil(async () => (await statusOf()) !== 'live', 5000, 'the silent worker to be listed as lost');
    expect(await statusOf()).toBe('lost');
    expect((await h.engine.operationalState()).workers).toEqual({ live: 2, lost: 1 });
    // A worker that closes takes itself out.
    await gone.close();
    expect((await registry.list()).map((w) => w.name)).toEqual(['gpu-1', 'stock-1']);
  });
});

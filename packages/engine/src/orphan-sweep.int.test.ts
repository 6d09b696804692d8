import { randomUUID } from 'node:crypto';
import { prepareInline } from '@orch/core';
import { compileExecution } from './execution-definition';
import { type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

const GRACE_MS = 300;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ startGraceMs: GRACE_MS });
});
afterAll(() => h?.stop());

/** What an API that died right after creating the run leaves: the run written and admitted, no job enqueued. */
async function createWithoutJobs(tasks: unknown[]): Promise<string> {
  const def = compileExecution(randomUUID(), prepareInline(wf(tasks), {}), { defaultTimeoutMs: 60_000 });
  const created = await h.ctx.store.create({ def, limit: 100, startGraceMs: GRACE_MS });
  expect(created).toEqual({ created: true, admitted: true });
  return def.executionId;
}

const markers = () => h.connection.zrange(h.ctx.keys.starting(), 0, -1);

describe('orphaned runs (created, first jobs never enqueued)', () => {
  it('are started by a worker within seconds, not at the recovery pass, and run each task once', async () => {
    const id = await createWithoutJobs([probe('orphan_a'), probe('orphan_b', ['orphan_a'])]);
    expect(await h.engine.status(id)).toBe('running');
    expect(await h.ctx.queues.workflowJobsExist([id])).toEqual([false]);
    // This worker has no recovery pass at all: only the starting sweep (every second) can pick the run up.
    await h.startWorker();
    const record = await h.waitForEnd(id, 10_000);
    expect(record.status).toBe('completed');
    expect(record.tasks.map((t) => [t.id, t.status, t.output])).toEqual([
      ['orphan_a', 'completed', 1],
      ['orphan_b', 'completed', 2],
    ]);
    expect(h.calls.filter((c) => c.task.startsWith('orphan_')).map((c) => c.task)).toEqual(['orphan_a', 'orphan_b']);
    const events = await h.engine.events(id);
    expect(events.filter((e) => e.type === 'recovery.started')).toEqual([
      expect.objectContaining({ error: 'its first jobs never reached the queue' }),
    ]);
    expect(await markers()).not.toContain(id);
    expect((await h.engine.operationalState()).recovery.recovery_started).toBeGreaterThanOrEqual(1);
  });

  it('leaves runs whose jobs were enqueued alone: their marker goes, nothing runs twice', async () => {
    const id = await h.submit(wf([probe('queued_once')]));
    expect(await markers()).toContain(id);
    expect((await h.waitForEnd(id, 10_000)).status).toBe('completed');
    // Past the grace, a sweep finds the workflow job and only drops the marker.
    expect(await h.kernel.startOrphans(Date.now() + GRACE_MS + 1)).toEqual([]);
    expect(await markers()).not.toContain(id);
    expect(h.calls.filter((c) => c.task === 'queued_once')).toHaveLength(1);
    expect((await h.engine.events(id)).some((e) => e.type === 'recovery.started')).toBe(false);
  });

  it('ends a run cancelled while orphaned: its job is enqueued so that it can end, and none of its tasks runs', async () => {
    const id = await createWithoutJobs([probe('never_runs')]);
    await h.engine.cancel(id);
    expect(await h.engine.status(id)).toBe('cancelling');
    // This sweep or the worker's own (whichever comes first) enqueues the workflow job.
    await h.kernel.startOrphans(Date.now() + GRACE_MS + 1);
    const record = await h.waitForEnd(id, 10_000);
    expect(record.status).toBe('cancelled');
    expect(h.calls.some((c) => c.task === 'never_runs')).toBe(false);
    expect(await markers()).not.toContain(id);
  });
});

describe('a run admitted from the queue by a process that died before starting it', () => {
  let q: Harness;
  beforeAll(async () => {
    q = await startHarness({ startGraceMs: GRACE_MS, maxConcurrentWorkflows: 1 });
  });
  afterAll(() => q?.stop());

  it('is started by the starting sweep', async () => {
    const make = () =>
      compileExecution(randomUUID(), prepareInline(wf([probe('from_queue')]), {}), { defaultTimeoutMs: 60_000 });
    const [holder, waiting] = [make(), make()];
    expect(await q.ctx.store.create({ def: holder, limit: 1 })).toEqual({ created: true, admitted: true });
    expect(await q.ctx.store.create({ def: waiting, limit: 1 })).toEqual({ created: true, admitted: false });
    await q.ctx.store.dropStarting([holder.executionId]);
    // The holder ends and its slot goes to the waiting run; whoever did that dies before starting it.
    expect(await q.ctx.store.scripts.releaseSlot(holder.executionId, 1, GRACE_MS)).toEqual([waiting.executionId]);
    expect(await q.engine.status(waiting.executionId)).toBe('pending');
    await q.startWorker();
    const record = await q.waitForEnd(waiting.executionId, 10_000);
    expect(record.status).toBe('completed');
    expect((await q.engine.events(waiting.executionId)).map((e) => e.type)).toEqual(
      expect.arrayContaining(['workflow.queued', 'recovery.started', 'workflow.started', 'workflow.completed']),
    );
  });
});

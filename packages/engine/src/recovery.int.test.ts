import { prepareInline } from '@orch/core';
import { compileExecution } from './execution-definition';
import { RecoveryManager } from './recovery/recovery-manager';
import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let recovery: RecoveryManager;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 10 });
  recovery = new RecoveryManager(h.ctx, h.kernel, { orphanAfterMs: 0, graceMs: 0, strategy: 'resume' });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.calls.length = 0;
});

/** a -> park (a 3 s delay) -> c; returns once `a` is recorded and `park` sits in the delayed set. */
async function runThenLoseJobs(strategy?: string): Promise<string> {
  const workflow = wf(
    [
      probe('a'),
      { id: 'park', type: 'delay', depends_on: ['a'], parameters: { duration: '3s' } },
      probe('c', ['park'], { value: 'done' }),
    ],
    strategy ? { recovery: { strategy } } : {},
  );
  const id = await h.submit(workflow);
  await h.delayed(`${id}.park`);
  // Lose every job of the run behind the engine's back, as a Redis without persistence would after a restart.
  // Top-down, as BullMQ requires: removing the parked child first would release the workflow job.
  await (await h.ctx.queues.workflows.getJob(id))?.remove();
  expect(await h.ctx.queues.tasks.getJob(`${id}.park`)).toBeUndefined();
  expect(await h.ctx.queues.workflows.getJob(id)).toBeUndefined();
  return id;
}

describe('orphan recovery strategies', () => {
  it('resume re-enqueues exactly the ready tasks and reuses checkpointed outputs', async () => {
    const id = await runThenLoseJobs();
    const report = await recovery.run();
    expect(report.resumed).toEqual([id]);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('completed');
    expect(h.calls.map((c) => c.task)).toEqual(['a', 'c']); // a ran once: its output was reused
    expect(byId(record).c?.output).toBe('done');
    const events = await h.engine.events(id);
    expect(events.find((e) => e.type === 'recovery.resumed')?.error).toBe('its workflow job was missing');
  });

  it('restart runs the workflow again from its roots', async () => {
    const id = await runThenLoseJobs('restart');
    const report = await recovery.run();
    expect(report.restarted).toEqual([id]);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('completed');
    expect(h.calls.map((c) => c.task)).toEqual(['a', 'a', 'c']);
  });

  it('fail ends the run failed with the reason', async () => {
    const id = await runThenLoseJobs('fail');
    const report = await recovery.run();
    expect(report.failed).toEqual([id]);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('failed');
    expect(record.error).toBe('orphaned: its workflow job was missing');
    expect(byId(record).c?.status).toBe('upstream_failed');
  });
});

describe('admission recovery', () => {
  it('starts a run whose API died after writing it but before enqueueing it', async () => {
    const def = compileExecution('lost-submit', prepareInline(wf([probe('only')])), {
      defaultTimeoutMs: 60_000,
      now: Date.now() - 1,
    });
    await h.ctx.store.create({ def });
    const report = await recovery.run();
    expect(report.admitted).toEqual(['lost-submit']);
    const record = await h.waitForEnd('lost-submit');
    expect(record.status).toBe('completed');
    expect(h.calls.map((c) => c.task)).toEqual(['only']);
  });

  it('starts a run that was admitted but never started', async () => {
    const def = compileExecution('lost-start', prepareInline(wf([probe('one')])), { defaultTimeoutMs: 60_000 });
    await h.ctx.store.create({ def });
    await h.ctx.store.scripts.admit('lost-start', 100);
    const report = await recovery.run();
    expect(report.started).toEqual(['lost-start']);
    expect((await h.waitForEnd('lost-start')).status).toBe('completed');
  });

  it('times out a running run whose deadline was lost', async () => {
    const id = await h.submit(wf([probe('long', [], { sleep_ms: 10_000 })], { timeout: 1 }));
    await h.started('long');
    // As if a worker claimed the deadline and died before aborting the run.
    expect(await h.connection.zrem(h.ctx.keys.deadlines(), id)).toBe(1);
    const report = await recovery.run(Date.now() + 5_000);
    expect(report.timed_out).toEqual([id]);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('timed_out');
    expect(record.error).toBe('workflow timed out after 1000 ms (found by recovery)');
  });

  it('counts every action', async () => {
    const counters = await h.connection.hgetall(h.ctx.keys.counters());

    expect(Number(counters.recovery_resumed)).toBeGreaterThanOrEqual(1);
    expect(Number(counters.recovery_admitted)).toBeGreaterThanOrEqual(1);
  });
});

describe('the schedule', () => {
  it('is one scheduler however many workers upsert it', async () => {
    const other = new RecoveryManager(h.ctx, h.kernel, { orphanAfterMs: 60_000, graceMs: 1000, strategy: 'resume' });
    await recovery.schedule(60_000);
    await other.schedule(60_000);
    const schedulers = await h.ctx.queues.control.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toEqual(['recovery']);
    await recovery.unschedule();
  });
});

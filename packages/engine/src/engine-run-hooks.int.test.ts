import { prepareInline, targetWorkflow } from '@orch/core';
import { RecoveryManager } from './recovery/recovery-manager';
import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

/** The run-level hooks of issue #23 where the engine's own bookkeeping is what is checked. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxConcurrentWorkflows: 1 });
  await h.startWorker({ concurrency: 10 });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.calls.length = 0;
});

const bye = { id: 'bye', type: 'transform', parameters: { output: '${workflow.status}' } };

describe('exit handlers', () => {
  it('do not run for a run cancelled while it waited for a slot: it never started', async () => {
    const busy = await h.submit(wf([probe('hold', [], { sleep_ms: 20_000 })]));
    await h.started('hold');
    const queued = await h.submit(wf([probe('never')], { on_exit: [bye] }));
    expect(await h.engine.status(queued)).toBe('pending');
    await h.engine.cancel(queued);
    const record = await h.waitForEnd(queued);
    expect(record.status).toBe('cancelled');
    expect(byId(record).bye).toMatchObject({ status: 'cancelled', on_exit: true, attempts: 0 });
    await h.engine.cancel(busy);
    await h.waitForEnd(busy);
  });
});

describe('targets', () => {
  it('a retry of a targeted run runs only the targets that did not complete; the rest stays not targeted', async () => {
    const prepared = targetWorkflow(
      prepareInline(wf([probe('a'), probe('b', ['a'], { permanent: true }), probe('c', ['a']), probe('d', ['c'])])),
      ['b'],
    );
    const first = await h.waitForEnd((await h.engine.submit(prepared)).executionId);
    expect(first.status).toBe('failed');
    expect(first.tasks.map((t) => [t.id, t.status, t.skip_reason])).toEqual([
      ['a', 'completed', undefined],
      ['b', 'failed', undefined],
      ['c', 'skipped', 'not targeted'],
      ['d', 'skipped', 'not targeted'],
    ]);
    h.calls.length = 0;
    const retried = await h.engine.retry(first.execution_id);
    expect(retried.reused).toEqual(['a']);
    const second = await h.waitForEnd(retried.executionId);
    expect(h.calls.map((c) => c.task)).toEqual(['b']);
    expect(byId(second).c).toMatchObject({ status: 'skipped', skip_reason: 'not targeted' });
  });
});

describe('max_concurrency', () => {
  it('frees the slot of a task skipped by its condition, and leaves no gate behind', async () => {
    const record = await h.run(
      wf(
        [
          probe('a', [], {}, { condition: '${false}' }),
          probe('b', [], {}, { condition: '${false}' }),
          probe('c'),
          probe('d', ['a', 'c'], {}, { trigger_rule: 'all_done' }),
        ],
        { max_concurrency: 1 },
      ),
    );
    expect(record.status).toBe('completed');
    expect(record.tasks.map((t) => [t.id, t.status, t.skip_reason])).toEqual([
      ['a', 'skipped', 'condition false'],
      ['b', 'skipped', 'condition false'],
      ['c', 'completed', undefined],
      ['d', 'completed', undefined],
    ]);
    const keys = [h.ctx.keys.gateSlots(record.execution_id, '*'), h.ctx.keys.gateQueue(record.execution_id, '*')];
    expect(await h.connection.exists(...keys)).toBe(0);
  });

  it('lets a run with tasks waiting for a slot end at once when it is cancelled', async () => {
    const id = await h.submit(
      wf([probe('first', [], { sleep_ms: 20_000 }), probe('second', [], { sleep_ms: 20_000 })], { max_concurrency: 1 }),
    );
    // Either root may take the one slot first; the other parks, waiting for it.
    await Promise.race([h.started('first'), h.started('second')]);
    const holder = h.calls[0]?.task as string;
    await h.delayed(`${id}.${holder === 'first' ? 'second' : 'first'}`);
    const cancelledAt = Date.now();
    await h.engine.cancel(id);
    const record = await h.waitForEnd(id, 10_000);
    expect(record.status).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(h.calls.map((c) => c.task)).toEqual([holder]);
  });

  it('costs nothing to a run without a limit: no gate key is ever written', async () => {
    const record = await h.run(wf([probe('a'), probe('b', ['a'])]));
    expect(record.status).toBe('completed');
    expect(await h.connection.keys(`*{${record.execution_id}}:gate:*`)).toEqual([]);
  });
});

describe('a run that recovery restarts', () => {
  it('starts with empty gates and its untargeted tasks still skipped', async () => {
    const workflow = wf(
      [
        probe('a'),
        { id: 'park', type: 'delay', depends_on: ['a'], parameters: { duration: '3s' } },
        probe('c', ['park']),
        probe('left_out', ['a']),
      ],
      { max_concurrency: 1, recovery: { strategy: 'restart' } },
    );
    const { executionId: id } = await h.engine.submit(targetWorkflow(prepareInline(workflow), ['c']));
    await h.delayed(`${id}.park`);
    // A holder that will never leave (its worker died with the run's jobs), then every job of the run lost.
    await h.connection.sadd(h.ctx.keys.gateSlots(id, '*'), 'ghost');
    await (await h.ctx.queues.workflows.getJob(id))?.remove();
    const recovery = new RecoveryManager(h.ctx, h.kernel, { orphanAfterMs: 0, graceMs: 0, strategy: 'resume' });
    expect((await recovery.run()).restarted).toEqual([id]);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('completed');
    expect(byId(record).left_out).toMatchObject({ status: 'skipped', skip_reason: 'not targeted' });
    expect(h.calls.map((c) => c.task)).toEqual(['a', 'a', 'c']);
  });
});

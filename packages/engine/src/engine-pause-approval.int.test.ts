import { RECHECK_MS } from './control-context';
import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 10 });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.calls.length = 0;
});

describe('pause and resume', () => {
  it('holds ready tasks while paused, lets running ones finish, and releases them on resume', async () => {
    const id = await h.submit(
      wf([probe('first', [], { sleep_ms: 300 }), probe('second', ['first']), probe('third', ['second'])]),
    );
    await h.started('first');
    expect(await h.engine.pause(id)).toBe('paused');
    // `first` finishes while paused; `second` becomes ready but must not start.
    await h.waitForEvent(id, (e) => e.type === 'task.completed' && e.task === 'first');
    const paused = await h.engine.get(id);
    expect(paused.status).toBe('paused');
    expect(byId(paused).second?.status).toBe('pending');
    expect(h.calls.map((c) => c.task)).toEqual(['first']);
    expect(await h.engine.resume(id)).toBe('running');
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('completed');
    expect(h.calls.map((c) => c.task)).toEqual(['first', 'second', 'third']);
    const types = (await h.engine.events(id)).map((e) => e.type);
    expect(types.indexOf('workflow.paused')).toBeLessThan(types.indexOf('workflow.resumed'));
  });

  it('parks a task that was already queued when the run paused, and wakes it on resume', async () => {
    const id = await h.submit(wf([probe('a', [], { sleep_ms: 500 }), probe('b', ['a'])]));
    await h.started('a');
    await h.engine.pause(id);
    // As if `b` had been released just before the pause: its job runs with the run paused, so it must park.
    await h.kernel.release(await h.ctx.store.definition(id), ['b']);
    await h.delayed(`${id}.b`);
    expect(h.calls.map((c) => c.task)).toEqual(['a']);
    await h.engine.resume(id);
    expect((await h.waitForEnd(id)).status).toBe('completed');
  });

  it('cancels a paused run', async () => {
    const id = await h.submit(wf([probe('x', [], { sleep_ms: 100 }), probe('y', ['x'])]));
    await h.started('x');
    await h.engine.pause(id);
    await h.waitForEvent(id, (e) => e.type === 'task.completed' && e.task === 'x');
    await h.engine.cancel(id);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('cancelled');
    expect(byId(record).y?.status).toBe('cancelled');
  });

  it('refuses to resume a run that is not paused', async () => {
    const done = await h.run(wf([probe('z')]));
    await expect(h.engine.resume(done.execution_id)).rejects.toThrow(
      `execution ${done.execution_id} is completed; only a paused run can be resumed`,
    );
  });
});

describe('approval tasks', () => {
  const approvalFlow = (timeout?: string) =>
    wf([
      {
        id: 'review',
        type: 'approval',
        parameters: { message: 'Ship it?', approvers: ['ops'] },
        ...(timeout ? { timeout } : {}),
      },
      {
        id: 'ship',
        type: 'transform',
        depends_on: ['review'],
        parameters: { output: '${review.output.payload.note}' },
      },
    ]);

  it('waits without a worker, shows who it waits on, and continues with the approval payload', async () => {
    const id = await h.submit(approvalFlow());
    await h.delayed(`${id}.review`);
    const waiting = byId(await h.engine.get(id)).review;
    expect(waiting).toMatchObject({
      status: 'running',
      waiting_for: { kind: 'approval', message: 'Ship it?', approvers: ['ops'] },
    });
    expect(await h.ctx.queues.tasks.getJobCounts('active')).toEqual({ active: 0 });
    // `approvers` are enforced: nobody else, and no anonymous decision, gets through.
    await expect(h.engine.decide(id, 'review', 'approve', {}, 'mallory')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'task review may be decided only by ops; not by mallory',
    });
    await expect(h.engine.decide(id, 'review', 'approve')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await h.engine.decide(id, 'review', 'approve', { note: 'go' }, 'ops');
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('completed');
    expect(byId(record).review?.output).toMatchObject({ approved: true, by: 'ops', payload: { note: 'go' } });
    expect(byId(record).ship?.output).toBe('go');
    await expect(h.engine.decide(id, 'review', 'reject', {}, 'ops')).rejects.toThrow(
      'task review has already finished',
    );
  });

  it('fails the task when rejected', async () => {
    const id = await h.submit(approvalFlow());
    await h.engine.decide(id, 'review', 'reject', { reason: 'not today' }, 'ops');
    await expect(h.engine.decide(id, 'review', 'approve', {}, 'ops')).rejects.toThrow(
      /already (been decided|finished)/,
    );
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('failed');
    expect(byId(record).review?.error).toBe('rejected by ops: not today');
    expect(byId(record).ship?.status).toBe('upstream_failed');
  });

  it('fails the task when nobody decides before its timeout', async () => {
    const record = await h.run(approvalFlow('300ms'));
    expect(record.status).toBe('failed');
    expect(byId(record).review?.error).toBe('task review timed out after 300 ms');
  });

  it('refuses decisions on other task types', async () => {
    const id = await h.submit(wf([probe('p', [], { sleep_ms: 50 })]));
    await expect(h.engine.decide(id, 'p', 'approve')).rejects.toThrow('task p is a data task, not an approval');
    await expect(h.engine.decide(id, 'nope', 'approve')).rejects.toThrow("task 'nope' was not found");
    await h.waitForEnd(id);
  });

  it("continues after a decision whose wake is lost (made between the task's look and its park, say)", async () => {
    const id = await h.submit(approvalFlow());
    await h.delayed(`${id}.review`);
    const queues = h.ctx.queues;
    const wake = queues.wake.bind(queues);
    queues.wake = async () => {}; // the decision's wake never arrives
    try {
      const decided = Date.now();
      await h.engine.decide(id, 'review', 'approve', { note: 'late' }, 'ops');
      const record = await h.waitForEnd(id, 20_000);
      expect(byId(record).ship?.output).toBe('late');
      expect(Date.now() - decided).toBeLessThan(RECHECK_MS + 5_000);
    } finally {
      queues.wake = wake;
    }
  });
});

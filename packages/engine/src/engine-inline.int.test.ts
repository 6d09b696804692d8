import { waitUntil } from '@orch/testing';
import { DEFINITION_IN_JOB_MAX } from './task-job';
import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

/** A chain t0 -> t1 -> ... of probe tasks; each outputs 1 + its dependency's output, so t<i> outputs i + 1. */
const chain = (n: number, extra: (i: number) => Record<string, unknown> = () => ({})) =>
  Array.from({ length: n }, (_, i) => probe(`t${i}`, i === 0 ? [] : [`t${i - 1}`], {}, extra(i)));

/** Waits until the job of `task` has finished as `state` (the run may end a moment before its carrier job does). */
async function jobEnds(h: Harness, id: string, task: string, state: 'completed' | 'failed'): Promise<void> {
  const job = await h.ctx.queues.tasks.getJob(`${id}.${task}`);
  await waitUntil(async () => (await job?.getState()) === state, 5_000, `job ${task} to be ${state}`);
}

/** Which of `tasks` have a BullMQ job of their own in the run (a task run inline has none). */
async function withJobs(h: Harness, id: string, tasks: readonly string[]): Promise<string[]> {
  const jobs = await Promise.all(tasks.map((t) => h.ctx.queues.tasks.getJob(`${id}.${t}`)));
  return tasks.filter((_, i) => jobs[i] !== undefined);
}

describe('inline continuation (on by default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.startWorker({ concurrency: 10, name: 'inline-worker' });
  });
  afterAll(() => h.stop());
  beforeEach(() => {
    h.calls.length = 0;
  });

  it('runs a chain in its root task job, journaling every task as an attempt of its own', async () => {
    const record = await h.run(wf(chain(20)));
    expect(record.status).toBe('completed');
    const tasks = byId(record);
    for (let i = 0; i < 20; i++) {
      expect([`t${i}`, tasks[`t${i}`]?.status, tasks[`t${i}`]?.output, tasks[`t${i}`]?.attempts]).toEqual([
        `t${i}`,
        'completed',
        i + 1,
        1,
      ]);
      expect(tasks[`t${i}`]?.worker).toBe('inline-worker');
    }
    // One job, the root's; every other task ran in it.
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
    expect(await withJobs(h, record.execution_id, ids)).toEqual(['t0']);
    await jobEnds(h, record.execution_id, 't0', 'completed');
    // Started and completed once each, in chain order.
    const events = await h.engine.events(record.execution_id);
    const steps = events.filter((e) => e.type === 'task.started' || e.type === 'task.completed');
    expect(steps.map((e) => `${e.type}:${e.task}`)).toEqual(
      ids.flatMap((t) => [`task.started:${t}`, `task.completed:${t}`]),
    );
    expect(h.calls.map((c) => c.task)).toEqual(ids);
  });

  it('runs a diamond’s two branches at once in its root’s job: one job in all', async () => {
    const starts = jest.spyOn(h.ctx.store.scripts, 'startTask');
    const record = await h.run(
      wf([
        probe('a'),
        probe('b', ['a'], { sleep_ms: 150 }),
        probe('c', ['a'], { sleep_ms: 150 }),
        probe('d', ['b', 'c']),
      ]),
    );
    expect(record.status).toBe('completed');
    expect(byId(record).d?.output).toBe(5); // 1 + (2 + 2)
    // b continues a's job, c runs beside it in a slot of its own, d in the branch that finished last.
    expect(await withJobs(h, record.execution_id, ['a', 'b', 'c', 'd'])).toEqual(['a']);
    const [b, c] = ['b', 'c'].map((t) => h.calls.find((call) => call.task === t));
    expect(b && c && b.start < (c.end as number) && c.start < (b.end as number)).toBe(true);
    const events = await h.engine.events(record.execution_id);
    const steps = events.filter((e) => e.type === 'task.started' || e.type === 'task.completed');
    expect(steps.map((e) => `${e.type}:${e.task}`).slice(0, 2)).toEqual(['task.started:a', 'task.completed:a']);
    expect(steps.slice(2, 4).map((e) => e.type)).toEqual(['task.started', 'task.started']);
    expect(steps.slice(-2).map((e) => `${e.type}:${e.task}`)).toEqual(['task.started:d', 'task.completed:d']);
    // A start-task call for the root only: b and c were started by a's completion, and the join d by the completion
    // of the branch that made it ready, each in the same script call.
    const started = starts.mock.calls.filter(([id]) => id === record.execution_id).map(([, input]) => input.taskId);
    starts.mockRestore();
    expect(started).toEqual(['a']);
    await jobEnds(h, record.execution_id, 'a', 'completed');
  });

  it('gives a run’s first job its definition, and drops the workflow job of a run its last task ended', async () => {
    const record = await h.run(wf([probe('a'), probe('b', ['a'])]));
    expect(record.status).toBe('completed');
    const id = record.execution_id;
    // The worker that fetched a's job parsed the definition from the job rather than reading its key.
    const root = await h.ctx.queues.tasks.getJob(`${id}.a`);
    const stored = (await h.connection.get(h.ctx.keys.def(id))) as string;
    expect(JSON.parse(root?.data.d as string)).toEqual(JSON.parse(stored));
    // b's completion ended the run in a's job, which then removed the workflow job: no worker fetches it to find
    // the run ended. Its child finished without it.
    await jobEnds(h, id, 'a', 'completed');
    expect(await h.ctx.queues.workflows.getJob(id)).toBeUndefined();
    // A run that fails ends through its workflow job, as one cancelled, timed out or with exit handlers does.
    const failed = await h.run(wf([probe('a', [], { permanent: true }), probe('b', ['a'])]));
    expect(failed.status).toBe('failed');
    const workflowJob = await h.ctx.queues.workflows.getJob(failed.execution_id);
    await waitUntil(async () => (await workflowJob?.getState()) === 'completed', 5_000, 'the workflow job to end');
    // A definition too big to ride in a job is read from its key.
    const big = await h.run(wf([probe('a', [], { value: 'x'.repeat(DEFINITION_IN_JOB_MAX) })]));
    expect([big.status, byId(big).a?.output]).toEqual(['completed', 'x'.repeat(DEFINITION_IN_JOB_MAX)]);
    expect((await h.ctx.queues.tasks.getJob(`${big.execution_id}.a`))?.data.d).toBeUndefined();
  });

  it('runs a split of up to eight branches inline while the worker has free slots; a wider fan-out is queued', async () => {
    const split = (prefix: string, n: number, sleep_ms: number) =>
      Array.from({ length: n }, (_, i) => probe(`${prefix}${i}`, ['a'], { sleep_ms }));
    const ids = (tasks: { id: string }[]) => tasks.map((t) => t.id);
    // Nine leaves: the next one and eight branches, all in a's job (concurrency 10).
    const nine = split('n', 9, 100);
    const starts = jest.spyOn(h.ctx.store.scripts, 'startTask');
    const all = await h.run(wf([probe('a'), ...nine, probe('z', ids(nine))]));
    expect([all.status, byId(all).z?.output]).toEqual(['completed', 19]); // 1 + 9 x 2
    expect(await withJobs(h, all.execution_id, [...ids(nine), 'z'])).toEqual([]);
    // a's completion started all nine; the join of nine (wider than MAX_STARTED_JOIN) had a start-task of its own.
    const started = starts.mock.calls.filter(([id]) => id === all.execution_id).map(([, input]) => input.taskId);
    starts.mockRestore();
    expect(started).toEqual(['a', 'z']);

    // A run holding six slots (its root's job and five branches) leaves four free: the next split's job takes one,
    // borrows two for branches (one slot is never lent) and queues the other six leaves.
    const busy = split('s', 6, 1_500);
    const holder = await h.submit(wf([probe('a'), ...busy]));
    await Promise.all(ids(busy).map((t) => h.started(t)));
    const some = split('m', 9, 100);
    const part = await h.run(wf([probe('a'), ...some, probe('z', ids(some))]));
    expect([part.status, byId(part).z?.output]).toEqual(['completed', 19]);
    expect(await withJobs(h, part.execution_id, ids(some))).toHaveLength(6);
    // Never more handlers at once than the worker's concurrency.
    const calls = h.calls.filter((c) => /^[sm]\d$/.test(c.task));
    const most = Math.max(
      ...calls.map((c) => calls.filter((o) => o.start <= c.start && c.start < (o.end ?? Date.now())).length),
    );
    expect(most).toBeLessThanOrEqual(10);
    expect((await h.waitForEnd(holder)).status).toBe('completed');

    // Thirty leaves: only the next one is carried; the fan-out is queued whole, to spread over the workers.
    const wide = split('w', 30, 0);
    const fan = await h.run(wf([probe('a'), ...wide, probe('z', ids(wide))]));
    expect([fan.status, byId(fan).z?.output]).toEqual(['completed', 61]);
    expect(await withJobs(h, fan.execution_id, ids(wide))).toHaveLength(29);
    // Every borrowed slot came back: the next diamond again runs in one job.
    const next = await h.run(wf([probe('a'), probe('b', ['a']), probe('c', ['a']), probe('d', ['b', 'c'])]));
    expect(await withJobs(h, next.execution_id, ['a', 'b', 'c', 'd'])).toEqual(['a']);
  });

  it('keeps a job for a dependent with retries, under max_concurrency, and for a control task', async () => {
    const retried = await h.run(
      wf([
        probe('a'),
        probe('b', ['a'], {}, { retry_policy: { max_retries: 1, initial_delay: '10ms' } }),
        probe('c', ['b']),
      ]),
    );
    expect(retried.status).toBe('completed');
    expect(await withJobs(h, retried.execution_id, ['a', 'b', 'c'])).toEqual(['a', 'b']);

    const gated = await h.run(wf(chain(3), { max_concurrency: 2 }));
    expect(gated.status).toBe('completed');
    expect(await withJobs(h, gated.execution_id, ['t0', 't1', 't2'])).toEqual(['t0', 't1', 't2']);

    const delayed = await h.run(
      wf([
        probe('a'),
        { id: 'pause', type: 'delay', depends_on: ['a'], parameters: { duration: '10ms' } },
        probe('c', ['pause']),
      ]),
    );
    expect(delayed.status).toBe('completed');
    expect(await withJobs(h, delayed.execution_id, ['a', 'pause', 'c'])).toEqual(['a', 'pause']);
  });

  it('records an inline task’s failure without failing its carrier job; fail-fast ends the run', async () => {
    const record = await h.run(wf([probe('a'), probe('b', ['a'], { permanent: true }), probe('c', ['b'])]));
    expect(record.status).toBe('failed');
    const tasks = byId(record);
    expect([tasks.a?.status, tasks.b?.status, tasks.b?.error, tasks.c?.status]).toEqual([
      'completed',
      'failed',
      'task b refuses',
      'upstream_failed',
    ]);
    expect(await withJobs(h, record.execution_id, ['a', 'b', 'c'])).toEqual(['a']);
    await jobEnds(h, record.execution_id, 'a', 'completed');
  });

  it('carries on past a failure that does not fail the run (continue_on_failure)', async () => {
    const record = await h.run(
      wf([
        probe('a'),
        probe('b', ['a'], { permanent: true }, { continue_on_failure: true }),
        { ...probe('c', ['b'], { value: 'after' }), trigger_rule: 'all_done' },
      ]),
    );
    expect(record.status).toBe('completed');
    expect([byId(record).b?.status, byId(record).c?.output]).toEqual(['failed', 'after']);
    expect(await withJobs(h, record.execution_id, ['a', 'b', 'c'])).toEqual(['a']);
  });

  it('aborts an inline task when its run is cancelled', async () => {
    const id = await h.submit(wf([probe('a'), probe('b', ['a'], { sleep_ms: 20_000 }), probe('c', ['b'])]));
    await h.started('b');
    const cancelledAt = Date.now();
    await h.engine.cancel(id);
    const record = await h.waitForEnd(id, 10_000);
    expect(record.status).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(h.calls.find((c) => c.task === 'b')?.outcome).toBe('aborted');
    expect(byId(record).c?.status).toBe('cancelled');
  });

  it('leaves the dependent of a task that completes while its run is paused to the resume, as a job', async () => {
    const id = await h.submit(wf([probe('a'), probe('b', ['a'], { sleep_ms: 300 }), probe('c', ['b'])]));
    await h.started('b');
    await h.engine.pause(id);
    // A paused run releases nothing: c waits for the resume, which queues it as a job.
    await h.waitForEvent(id, (e) => e.type === 'task.completed' && e.task === 'b');
    expect(await withJobs(h, id, ['c'])).toEqual([]);
    expect(h.calls.some((c) => c.task === 'c')).toBe(false);
    await h.engine.resume(id);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('completed');
    expect(byId(record).c?.output).toBe(3);
    expect(await withJobs(h, id, ['a', 'b', 'c'])).toEqual(['a', 'c']);
  });
});

describe('inline continuation off (WORKER_INLINE_CONTINUATION=false)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.startWorker({ concurrency: 10, inlineContinuation: false });
  });
  afterAll(() => h.stop());

  it('gives every task a job of its own', async () => {
    const record = await h.run(wf(chain(5)));
    expect(record.status).toBe('completed');
    expect(byId(record).t4?.output).toBe(5);
    const ids = ['t0', 't1', 't2', 't3', 't4'];
    expect(await withJobs(h, record.execution_id, ids)).toEqual(ids);
  });
});

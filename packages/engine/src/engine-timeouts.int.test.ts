import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 10 });
});
afterAll(() => h.stop());

const retryOnce = { retry_policy: { max_retries: 1, backoff_type: 'fixed', initial_delay: '50ms' } };

/** `timeout` on the waiting types: each attempt ends at its timeout, retried per the task's policy. */
describe('timeouts of waiting tasks', () => {
  it('ends a delay longer than its timeout as failed at the timeout, each attempt timed out', async () => {
    const started = Date.now();
    const record = await h.run(
      wf([{ id: 'wait', type: 'delay', parameters: { duration: '20s' }, timeout: '300ms', ...retryOnce }]),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(record.status).toBe('failed');
    const wait = byId(record).wait;
    expect([wait?.status, wait?.attempts, wait?.error]).toEqual(['failed', 2, 'task wait timed out after 300 ms']);
    expect(wait?.history?.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'timed_out'],
      [2, 'timed_out'],
    ]);
    for (const a of wait?.history ?? []) expect(a.duration_ms).toBeGreaterThanOrEqual(300);
  });

  it('lets a delay within its timeout complete', async () => {
    const record = await h.run(wf([{ id: 'wait', type: 'delay', parameters: { duration: '100ms' }, timeout: '10s' }]));
    expect([record.status, byId(record).wait?.output]).toEqual(['completed', { delayed_ms: 100 }]);
  });

  it('times out an approval nobody decides, per its retry policy', async () => {
    const record = await h.run(wf([{ id: 'review', type: 'approval', timeout: '300ms', ...retryOnce }]));
    expect(record.status).toBe('failed');
    expect(byId(record).review?.history?.map((a) => [a.attempt, a.status, a.error])).toEqual([
      [1, 'timed_out', 'task review timed out after 300 ms'],
      [2, 'timed_out', 'task review timed out after 300 ms'],
    ]);
  });

  it('times out a sub-workflow task and cancels its child run', async () => {
    const child = wf([probe('long', [], { sleep_ms: 20_000 })]);
    const started = Date.now();
    const record = await h.run(
      wf([{ id: 'sub', type: 'workflow', parameters: { workflow: child }, timeout: '500ms' }]),
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(record.status).toBe('failed');
    expect(byId(record).sub?.error).toBe('task sub timed out after 500 ms');
    const childId = (await h.engine.childRuns(record.execution_id)).get('sub');
    const childRecord = await h.waitForEnd(childId as string);
    expect(childRecord.status).toBe('cancelled');
    expect(byId(childRecord).long?.status).toBe('cancelled');
  });

  it('times out a parallel task: running sub-tasks are stopped, queued ones never start; a retry runs them anew', async () => {
    const item = (n: number) => ({
      type: 'data',
      parameters: { operation: 'search', input: { sleep_ms: 400, value: n } },
    });
    const started = Date.now();
    const record = await h.run(
      wf([
        {
          id: 'fan',
          type: 'parallel',
          // One at a time: the first two items fit in the timeout's 700 ms, the third is stopped, the rest never run.
          parameters: { tasks: [1, 2, 3, 4, 5].map(item), max_concurrency: 1 },
          timeout: '1000ms',
          ...retryOnce,
        },
      ]),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(record.status).toBe('failed');
    const fan = byId(record).fan;
    expect([fan?.error, fan?.attempts]).toEqual(['task fan timed out after 1000 ms', 2]);
    expect(fan?.history?.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'timed_out'],
      [2, 'timed_out'],
    ]);
    // Per attempt, two or three of the five items start (how many fit in 1 s depends on the machine's load): the one
    // running at the timeout is stopped, the ones queued behind it never start.
    const ran = h.calls.filter((c) => c.task.startsWith('fan['));
    expect(ran.length).toBeGreaterThanOrEqual(4);
    expect(ran.length).toBeLessThanOrEqual(6);
    expect(ran.filter((c) => c.task === 'fan[4]')).toEqual([]);
    expect(ran.some((c) => c.outcome === 'aborted')).toBe(true);
  });
});

import { hostname } from 'node:os';
import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxConcurrentWorkflows: 2 });
  await h.startWorker({ concurrency: 20 });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.calls.length = 0;
});

const startsOf = (task: string) => h.calls.filter((c) => c.task === task).map((c) => c.start);

/** One running 10 s run per name, each with a 1 h timeout; at most two, since this harness admits two at a time. */
async function longRuns(...names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    ids.push(await h.submit(wf([probe(name, [], { sleep_ms: 10_000 })], { timeout: '1h' })));
    await h.started(name);
  }
  return ids;
}

describe('retries', () => {
  it('retries with exponential backoff; the gaps are at least the policy’s delays', async () => {
    const record = await h.run(
      wf([
        probe(
          'flaky',
          [],
          { fail_times: 3, value: 'ok' },
          { retry_policy: { max_retries: 3, backoff_type: 'exponential', initial_delay: '100ms' } },
        ),
      ]),
    );
    expect(record.status).toBe('completed');
    expect(byId(record).flaky).toMatchObject({ status: 'completed', attempts: 4, output: 'ok' });
    const starts = startsOf('flaky');
    expect(starts).toHaveLength(4);
    const gaps = starts.slice(1).map((s, i) => s - (starts[i] as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
    expect(gaps[2]).toBeGreaterThanOrEqual(400);
    const events = await h.engine.events(record.execution_id);
    expect(events.filter((e) => e.type === 'task.retrying').map((e) => [e.attempt, e.error])).toEqual([
      [1, 'flaky failure 1'],
      [2, 'flaky failure 2'],
      [3, 'flaky failure 3'],
    ]);
    // Every attempt is kept in the record, each with its worker, times and error.
    const history = byId(record).flaky?.history ?? [];
    const worker = `${hostname()}:${process.pid}`;
    expect(history.map((a) => [a.attempt, a.status, a.error ?? null, a.worker])).toEqual([
      [1, 'failed', 'flaky failure 1', worker],
      [2, 'failed', 'flaky failure 2', worker],
      [3, 'failed', 'flaky failure 3', worker],
      [4, 'completed', null, worker],
    ]);
    history.forEach((a, i) => {
      expect(Date.parse(a.started_at)).toBeCloseTo(starts[i] as number, -2);
      expect(a.duration_ms).toBe(Date.parse(a.ended_at as string) - Date.parse(a.started_at));
    });
  });

  it('does not retry a permanent failure', async () => {
    const record = await h.run(
      wf([probe('no', [], { permanent: true }, { retry_policy: { max_retries: 5, initial_delay: '10ms' } })]),
    );
    expect(byId(record).no).toMatchObject({ status: 'failed', attempts: 1, error: 'task no refuses' });
    expect(startsOf('no')).toHaveLength(1);
  });
});

describe('timeouts', () => {
  it('aborts an attempt at the task timeout and retries it', async () => {
    const record = await h.run(
      wf([
        probe(
          'slow',
          [],
          { sleep_ms: 5000 },
          { timeout: '200ms', retry_policy: { max_retries: 1, backoff_type: 'fixed', initial_delay: '50ms' } },
        ),
      ]),
    );
    expect(record.status).toBe('failed');
    expect(byId(record).slow).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: 'task slow timed out after 200 ms',
    });
    expect(h.calls.map((c) => [c.attempt, c.outcome])).toEqual([
      [1, 'aborted'],
      [2, 'aborted'],
    ]);
    expect(byId(record).slow?.history?.map((a) => [a.attempt, a.status, a.error])).toEqual([
      [1, 'timed_out', 'task slow timed out after 200 ms'],
      [2, 'timed_out', 'task slow timed out after 200 ms'],
    ]);
    for (const c of h.calls) expect((c.end as number) - c.start).toBeLessThan(2000);
  });

  it('ends a workflow past its timeout as timed_out, aborting running tasks and starting nothing new', async () => {
    const record = await h.run(
      wf([probe('long', [], { sleep_ms: 10_000 }), probe('next', ['long']), probe('quick')], { timeout: '500ms' }),
    );
    expect(record.status).toBe('timed_out');
    expect(record.error).toBe('workflow timed out after 500 ms');
    const t = byId(record);
    expect([t.quick?.status, t.long?.status, t.next?.status]).toEqual(['completed', 'cancelled', 'cancelled']);
    expect(h.calls.find((c) => c.task === 'long')?.outcome).toBe('aborted');
    expect(startsOf('next')).toHaveLength(0);
    // The run's deadline is counted from its start and fired by a worker's sweep, within the sweep period of it.
    const late = Date.parse(record.finished_at as string) - Date.parse(record.started_at as string) - 500;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(2_000);
  });

  it('drops a finished run from the deadline set', async () => {
    const record = await h.run(wf([probe('a')], { timeout: '1h' }));
    expect(record.status).toBe('completed');
    expect(await h.connection.zscore(h.ctx.keys.deadlines(), record.execution_id)).toBeNull();
  });

  it('times each due run out once when several sweeps race for them', async () => {
    const ids = await longRuns('long1', 'long2');
    for (const id of ids) expect(await h.connection.zscore(h.ctx.keys.deadlines(), id)).not.toBeNull();
    // Five sweeps at once, as if an hour had passed (the worker's own sweep, on the real clock, does not see them
    // due), each claiming one run per script call so that they loop and interleave.
    const later = Date.now() + 3_600_000;
    const claims = await Promise.all(Array.from({ length: 5 }, () => h.kernel.timeOutDue(later, 1)));
    expect(claims.flat().sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await h.waitForEnd(id)).status).toBe('timed_out');
  });

  it('claims due runs batch after batch until none is left', async () => {
    const ids = await longRuns('batch1', 'batch2');
    const claimed = await h.kernel.timeOutDue(Date.now() + 3_600_000, 1);
    expect(claimed.sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await h.waitForEnd(id)).status).toBe('timed_out');
  });
});

describe('failure handling', () => {
  it('fails fast by default: running tasks are aborted (cancelled), nothing new starts, the rest is upstream_failed', async () => {
    const record = await h.run(
      wf([
        probe('boom', [], { sleep_ms: 200, permanent: true }),
        probe('busy', [], { sleep_ms: 10_000 }),
        probe('after', ['busy']),
        probe('child', ['boom']),
      ]),
    );
    expect(record.status).toBe('failed');
    expect(record.error).toBe('task boom failed: task boom refuses');
    const t = byId(record);
    // busy was running when fail-fast stopped the run: cancelled, its attempt too; the others never ran.
    expect([t.boom?.status, t.busy?.status, t.after?.status, t.child?.status]).toEqual([
      'failed',
      'cancelled',
      'upstream_failed',
      'upstream_failed',
    ]);
    expect(t.busy?.history?.map((a) => [a.attempt, a.status])).toEqual([[1, 'cancelled']]);
    expect([t.after?.history, t.child?.history]).toEqual([undefined, undefined]);
    expect(h.calls.find((c) => c.task === 'busy')?.outcome).toBe('aborted');
    expect(startsOf('after')).toHaveLength(0);
  });

  it('lets dependents run after a continue_on_failure task fails', async () => {
    const record = await h.run(
      wf([
        probe('shaky', [], { permanent: true }, { continue_on_failure: true }),
        probe('next', ['shaky'], { value: 'ran' }),
      ]),
    );
    expect(record.status).toBe('completed');
    expect(byId(record).shaky?.status).toBe('failed');
    expect(byId(record).next).toMatchObject({ status: 'completed', output: 'ran' });
  });

  it('marks dependents upstream_failed with fail_fast: false while independent branches finish', async () => {
    const record = await h.run(
      wf(
        [
          probe('boom', [], { permanent: true }),
          probe('child', ['boom']),
          probe('slow', [], { sleep_ms: 300 }),
          probe('tail', ['slow']),
        ],
        { fail_fast: false },
      ),
    );
    expect(record.status).toBe('failed');
    const t = byId(record);
    expect([t.boom?.status, t.child?.status, t.slow?.status, t.tail?.status]).toEqual([
      'failed',
      'upstream_failed',
      'completed',
      'completed',
    ]);
  });
});

describe('cancel', () => {
  it('cancels mid-run top-down: running tasks abort, later ones never start', async () => {
    const id = await h.submit(
      wf([probe('first'), probe('busy', ['first'], { sleep_ms: 10_000 }), probe('later', ['busy'])]),
    );
    await h.started('busy');
    expect(await h.engine.cancel(id)).toBe('running');
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('cancelled');
    const t = byId(record);
    expect([t.first?.status, t.busy?.status, t.later?.status]).toEqual(['completed', 'cancelled', 'cancelled']);
    expect(startsOf('later')).toHaveLength(0);
  });
});

describe('MAX_CONCURRENT_WORKFLOWS', () => {
  it('keeps excess runs pending and starts them in FIFO order as others finish', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await h.submit(wf([probe(`w${i}`, [], { sleep_ms: 150 })])));
    const statuses = await Promise.all(ids.map(async (id) => (await h.engine.get(id)).status));
    expect(statuses).toEqual(['running', 'running', 'pending', 'pending', 'pending']);
    const records = await Promise.all(ids.map((id) => h.waitForEnd(id)));
    expect(records.map((r) => r.status)).toEqual(Array(5).fill('completed'));
    const order = [...h.calls].sort((a, b) => a.start - b.start).map((c) => c.task);
    expect(order.slice(2)).toEqual(['w2', 'w3', 'w4']);
    // Never more than two running at once, judged by the runs' own start and finish times: at each start, count
    // the runs that are in progress.
    for (const r of records) {
      const running = records.filter(
        (o) =>
          (o.started_at as string) <= (r.started_at as string) && (o.finished_at as string) > (r.started_at as string),
      );
      expect(running.length).toBeLessThanOrEqual(2);
    }
  });
});

import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxConcurrentWorkflows: 1 });
  await h.startWorker({ concurrency: 10 });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.calls.length = 0;
});

describe('records', () => {
  it('reads the whole record: statuses, attempts, timings, outputs, worker', async () => {
    const record = await h.run(
      wf([
        probe('a', [], { value: { n: 1 } }),
        { id: 'b', type: 'transform', depends_on: ['a'], parameters: { output: '${a.output.n + 1}' } },
      ]),
    );
    expect(record).toMatchObject({
      status: 'completed',
      workflow: { id: 'test' },
      progress: { total: 2, completed: 2, pending: 0 },
    });
    const a = byId(record).a;
    expect(a).toMatchObject({
      type: 'data',
      status: 'completed',
      attempts: 1,
      output: { n: 1 },
      worker: expect.stringMatching(/:\d+$/),
    });
    expect(Date.parse(a?.finished_at as string)).toBeGreaterThanOrEqual(Date.parse(a?.started_at as string));
    expect(byId(record).b?.output).toBe(2);
    expect(record.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('returns the existing run for a repeated correlation id', async () => {
    const correlation = `corr-${Date.now()}`;
    const first = await h.submit(wf([probe('x')]), {}, correlation);
    const again = await Promise.all(Array.from({ length: 10 }, () => h.submit(wf([probe('x')]), {}, correlation)));
    expect(new Set(again)).toEqual(new Set([first]));
    await h.waitForEnd(first);
    expect(h.calls.filter((c) => c.task === 'x')).toHaveLength(1);
  });

  it('cancels a pending run at once', async () => {
    const blocker = await h.submit(wf([probe('block', [], { sleep_ms: 300 })]));
    const waiting = await h.submit(wf([probe('never')]));
    expect((await h.engine.get(waiting)).status).toBe('pending');
    expect(await h.engine.cancel(waiting)).toBe('cancelled');
    const record = await h.engine.get(waiting);
    expect(record.status).toBe('cancelled');
    expect(byId(record).never?.status).toBe('cancelled');
    await h.waitForEnd(blocker);
    expect(h.calls.map((c) => c.task)).toEqual(['block']);
  });

  it('lists runs newest first, filtered, in stable pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await h.run(wf([probe(`l${i}`)]))).execution_id);
    const first = await h.engine.list({ limit: 2 });
    const second = await h.engine.list({ limit: 2, cursor: first.next_cursor });
    expect(first.items.map((i) => i.execution_id)).toEqual([ids[4], ids[3]]);
    expect(second.items.map((i) => i.execution_id)).toEqual([ids[2], ids[1]]);
    const cancelled = await h.engine.list({ status: 'cancelled' });
    expect(cancelled.items.every((i) => i.status === 'cancelled')).toBe(true);
    expect(cancelled.items.length).toBeGreaterThanOrEqual(1);
  });

  it('retries a failed run, reusing completed outputs and running only what did not complete', async () => {
    const failed = await h.run(
      wf([probe('a'), probe('flaky', ['a'], { permanent: true }), probe('c', ['flaky'], { value: 'done' })]),
    );
    expect(failed.status).toBe('failed');
    h.calls.length = 0;
    // A retry re-runs the same definition; here the handler refuses again, proving `a` was not re-run.
    const retried = await h.engine.retry(failed.execution_id);
    expect(retried.reused).toEqual(['a']);
    const record = await h.waitForEnd(retried.executionId);
    expect(h.calls.map((c) => c.task)).toEqual(['flaky']);
    expect(byId(record).a).toMatchObject({ status: 'completed', output: 1 });
    expect(record.status).toBe('failed');
  });

  it('refuses to retry a run that is not finished or had nothing fail', async () => {
    const done = await h.run(wf([probe('ok')]));
    await expect(h.engine.retry(done.execution_id)).rejects.toThrow(
      `execution ${done.execution_id} completed every task; there is nothing to retry`,
    );
  });
});

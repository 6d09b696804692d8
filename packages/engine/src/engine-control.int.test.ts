import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.calls.length = 0;
});

describe('condition', () => {
  const branching = () =>
    wf(
      [
        probe('score', [], { value: '${threshold}' }),
        {
          id: 'gate',
          type: 'condition',
          depends_on: ['score'],
          condition: '${score.output > 0.8}',
          on_success: ['publish'],
          on_failure: ['redo'],
        },
        probe('publish', [], { value: 'published' }),
        probe('redo', [], { value: 'redone' }),
        probe('after_redo', ['redo'], { value: 'after' }),
        {
          id: 'join',
          type: 'transform',
          depends_on: ['publish', 'after_redo'],
          parameters: { output: '${default(publish.output, "") + default(after_redo.output, "")}' },
        },
      ],
      { variables: { threshold: 0 } },
    );

  it('takes on_success when true; the other branch and what only it feeds are skipped; the join runs', async () => {
    const record = await h.run(branching(), { threshold: 0.9 });
    expect(record.status).toBe('completed');
    const t = byId(record);
    expect(t.gate?.output).toEqual({ result: true, value: true });
    expect([t.publish?.status, t.redo?.status, t.after_redo?.status, t.join?.status]).toEqual([
      'completed',
      'skipped',
      'skipped',
      'completed',
    ]);
    expect(t.join?.output).toBe('published');
    expect(h.calls.map((c) => c.task).sort()).toEqual(['publish', 'score']);
  });

  it('takes on_failure when false', async () => {
    const record = await h.run(branching(), { threshold: 0.5 });
    expect(record.status).toBe('completed');
    const t = byId(record);
    expect([t.publish?.status, t.redo?.status, t.after_redo?.status, t.join?.status]).toEqual([
      'skipped',
      'completed',
      'completed',
      'completed',
    ]);
    expect(t.join?.output).toBe('after');
  });
});

describe('parallel', () => {
  it('runs a list of sub-tasks concurrently; the output keeps declared order', async () => {
    const record = await h.run(
      wf([
        {
          id: 'fan',
          type: 'parallel',
          parameters: {
            tasks: [
              { type: 'data', parameters: { operation: 'search', input: { sleep_ms: 300, value: 'slow' } } },
              { type: 'data', parameters: { operation: 'search', input: { value: 'fast' } } },
              { type: 'transform', parameters: { output: 'pure' } },
            ],
          },
        },
        { id: 'after', type: 'transform', depends_on: ['fan'], parameters: { output: '${len(fan.output)}' } },
      ]),
    );
    expect(record.status).toBe('completed');
    expect(byId(record).fan?.output).toEqual(['slow', 'fast', 'pure']);
    expect(byId(record).after?.output).toBe(3);
    const [slow, fast] = [h.calls.find((c) => c.task === 'fan[0]'), h.calls.find((c) => c.task === 'fan[1]')];
    expect(fast?.start).toBeLessThan(slow?.end as number); // concurrent, not one after the other
  });

  it('fans out dynamically with for_each, binding item and index', async () => {
    const record = await h.run(
      wf([
        { id: 'list', type: 'transform', parameters: { output: ['a', 'b', 'c', 'd'] } },
        {
          id: 'each',
          type: 'parallel',
          depends_on: ['list'],
          parameters: {
            for_each: '${list.output}',
            task: { type: 'transform', parameters: { output: '${index + ":" + upper(item)}' } },
          },
        },
      ]),
    );
    expect(record.status).toBe('completed');
    expect(byId(record).each?.output).toEqual(['0:A', '1:B', '2:C', '3:D']);
  });

  it('fails the parallel task when a sub-task fails', async () => {
    const record = await h.run(
      wf([
        {
          id: 'fan',
          type: 'parallel',
          parameters: {
            tasks: [
              { type: 'data', parameters: { operation: 'search', input: { value: 1 } } },
              { type: 'data', parameters: { operation: 'search', input: { permanent: true } } },
            ],
          },
        },
      ]),
    );
    expect(record.status).toBe('failed');
    expect(byId(record).fan?.error).toMatch(/^1 sub-task\(s\) failed; .*fan\.1\.1: task fan\[1\] refuses$/);
  });
});

describe('delay and transform', () => {
  it('waits as a delayed job, not in a worker', async () => {
    const started = Date.now();
    const record = await h.run(
      wf(
        [
          { id: 'wait', type: 'delay', parameters: { duration: '${pause}' } },
          {
            id: 'after',
            type: 'transform',
            depends_on: ['wait'],
            parameters: { output: { waited: '${wait.output.delayed_ms}' } },
          },
        ],
        { variables: { pause: '400ms' } },
      ),
    );
    expect(record.status).toBe('completed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(byId(record).after?.output).toEqual({ waited: 400 });
    const delayed = await h.ctx.queues.tasks.getJob(`${record.execution_id}.wait`);
    expect(delayed?.data.until).toBeGreaterThanOrEqual(started + 400);
  });

  it('fails a task whose parameters are invalid once evaluated, without retrying', async () => {
    const record = await h.run(
      wf([
        {
          id: 'bad',
          type: 'data',
          parameters: { operation: 'search', top_k: '${"many"}' },
          retry_policy: { max_retries: 3, initial_delay: '10ms' },
        },
      ]),
    );
    expect(record.status).toBe('failed');
    expect(byId(record).bad).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'task bad: parameters are invalid after evaluation: /parameters/top_k must be integer',
    });
  });
});

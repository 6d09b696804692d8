import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 50 });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.calls.length = 0;
});

/** Mulberry32: a seeded generator, so the random DAG is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Checks every task ran once, after all its dependencies ended, and returned 1 + the sum of their outputs. */
function expectDagSemantics(
  tasks: { id: string; depends_on: string[] }[],
  record: Awaited<ReturnType<Harness['run']>>,
) {
  const calls = new Map<string, typeof h.calls>();
  for (const c of h.calls) calls.set(c.task, [...(calls.get(c.task) ?? []), c]);
  const expected = new Map<string, number>();
  for (const t of tasks) expected.set(t.id, 1 + t.depends_on.reduce((sum, d) => sum + (expected.get(d) as number), 0));
  const tasksById = byId(record);
  for (const t of tasks) {
    expect([t.id, calls.get(t.id)?.length]).toEqual([t.id, 1]);
    const call = calls.get(t.id)?.[0];
    for (const d of t.depends_on) {
      const dep = calls.get(d)?.[0];
      expect((call?.start ?? 0) >= (dep?.end ?? Number.POSITIVE_INFINITY)).toBe(true);
    }
    expect([t.id, tasksById[t.id]?.status, tasksById[t.id]?.output]).toEqual([t.id, 'completed', expected.get(t.id)]);
  }
}

describe('DAG execution', () => {
  it('runs a diamond in dependency order with outputs flowing to dependents', async () => {
    const tasks = [probe('a'), probe('b', ['a']), probe('c', ['a']), probe('d', ['b', 'c'])];
    const record = await h.run(wf(tasks));
    expect(record.status).toBe('completed');
    expect(record.progress).toMatchObject({ total: 4, completed: 4, failed: 0 });
    expect(byId(record).d?.output).toBe(5); // a=1, b=c=2, d=1+2+2
    expectDagSemantics(
      tasks.map((t) => ({ id: t.id, depends_on: t.depends_on })),
      record,
    );
    const events = await h.engine.events(record.execution_id);
    expect(events[0]?.type).toBe('workflow.created');
    expect(events.at(-1)?.type).toBe('workflow.completed');
    expect(events.filter((e) => e.type === 'task.completed').map((e) => e.task)).toEqual([
      'a',
      expect.any(String),
      expect.any(String),
      'd',
    ]);
  });

  it('does not hold an independent chain behind a slow task', async () => {
    const tasks = [
      probe('a'),
      probe('slow', ['a'], { sleep_ms: 1500 }),
      probe('c', ['a']),
      probe('d', ['slow', 'c']),
      probe('e', ['c']),
      probe('f', ['e']),
    ];
    const record = await h.run(wf(tasks));
    expect(record.status).toBe('completed');
    const call = (id: string) => h.calls.find((c) => c.task === id);
    // e and f depend only on the fast branch: both finished while `slow` was still sleeping.
    expect(call('f')?.end).toBeLessThan(call('slow')?.end as number);
    expect(call('d')?.start).toBeGreaterThanOrEqual(call('slow')?.end as number);
  });

  // Over 1,000 so the join reads its inputs in more than one HMGET slice (start-task-5.lua).
  it('fans out to 1,200 tasks and joins them, reading every output', async () => {
    const leaves = Array.from({ length: 1200 }, (_, i) => probe(`n${i}`, ['root']));
    const tasks = [
      probe('root'),
      ...leaves,
      probe(
        'join',
        leaves.map((l) => l.id),
      ),
    ];
    const record = await h.run(wf(tasks), {}, 60_000);
    expect(record.status).toBe('completed');
    expect(byId(record).join?.output).toBe(1 + 1200 * 2);
    expect(h.calls).toHaveLength(1202);
  });

  it('runs a chain of 100 in order', async () => {
    const tasks = Array.from({ length: 100 }, (_, i) => probe(`t${i}`, i === 0 ? [] : [`t${i - 1}`]));
    const record = await h.run(wf(tasks), {}, 60_000);
    expect(record.status).toBe('completed');
    expect(byId(record).t99?.output).toBe(100);
    expect(h.calls.map((c) => c.task)).toEqual(tasks.map((t) => t.id));
  });

  it('runs a seeded random DAG of 200 with correct output checksums', async () => {
    const random = seeded(7);
    const tasks = Array.from({ length: 200 }, (_, i) => {
      const deps = new Set<string>();
      const wanted = i === 0 ? 0 : Math.floor(random() * 3);
      for (let k = 0; k < wanted; k++) deps.add(`n${Math.floor(random() * i)}`);
      return probe(`n${i}`, [...deps]);
    });
    const record = await h.run(wf(tasks), {}, 60_000);
    expect(record.status).toBe('completed');
    expectDagSemantics(
      tasks.map((t) => ({ id: t.id, depends_on: t.depends_on })),
      record,
    );
  });
});

describe('task ids that are Object.prototype names', () => {
  it('runs and records them like any other id (id-keyed maps have no prototype)', async () => {
    // `__proto__`, `constructor` and `prototype` are refused as ids; the other names of Object.prototype are not.
    const record = await h.run(
      wf([probe('toString'), probe('valueOf', ['toString']), probe('hasOwnProperty', ['valueOf'])]),
    );
    expect(record.status).toBe('completed');
    const outputs = new Map(record.tasks.map((t) => [t.id, t.output]));
    expect(['toString', 'valueOf', 'hasOwnProperty'].map((id) => outputs.get(id))).toEqual([1, 2, 3]);
    expect(h.calls.map((c) => c.task)).toEqual(['toString', 'valueOf', 'hasOwnProperty']);
  });
});

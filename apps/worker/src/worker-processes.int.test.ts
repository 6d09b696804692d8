import { createServer, type Server } from 'node:http';
import { prepareInline } from '@orch/core';
import { waitForEnd } from '@orch/engine/testing';
import { type RedisServer, startRedisServer, waitUntil } from '@orch/testing';
import { buildWorker, randomDag, startFleet, type WorkerFleet } from './test-worker-processes';

jest.setTimeout(120_000);

let server: RedisServer;
let fleet: WorkerFleet;
beforeAll(async () => {
  buildWorker();
  server = await startRedisServer();
});
afterAll(async () => {
  await fleet?.stop();
  await server?.stop();
});

/**
 * A witness outside Redis: counts every call of every step (`?n=<run>&step=<step>`), held 30 ms so a kill finds steps
 * mid-call, and answers `{step}` (a number when the step is one).
 */
async function startWitness(): Promise<{ calls: Map<string, number>; base: string; close(): void }> {
  const calls = new Map<string, number>();
  const witness: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://witness');
    const step = url.searchParams.get('step') ?? '';
    const key = `${url.searchParams.get('n')}.${step}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ step: /^\d+$/.test(step) ? Number(step) : step }));
    }, 30);
  });
  await new Promise<void>((resolve) => witness.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(witness.address() as { port: number }).port}/step`;
  return { calls, base, close: () => witness.close() };
}

/** A fleet whose workers lose their jobs' locks fast and may call the witness. */
function killableFleet(env: Record<string, string> = {}): Promise<WorkerFleet> {
  return startFleet(server, {
    WORKER_LOCK_DURATION: '1s',
    WORKER_STALLED_INTERVAL: '500ms',
    RECOVERY_ENABLED: 'false',
    HTTP_TASK_ALLOW: '127.0.0.0/8', // the witness
    ...env,
  });
}

/**
 * Asserts that run `id` recorded each of its `total` tasks completed once, and that every task cut off mid-call by
 * the kill of worker `first` is a lost attempt followed by a completed one on `second`; returns how many were.
 */
async function expectRecovered(id: string, total: number, first: string, second: string): Promise<number> {
  const events = await fleet.engine.events(id, '0', 10_000);
  const completions = events.filter((e) => e.type === 'task.completed').map((e) => e.task);
  expect(completions).toHaveLength(total);
  expect(new Set(completions).size).toBe(total);
  const record = await fleet.engine.get(id);
  const lost = events.filter((e) => e.type === 'task.stalled');
  for (const event of lost) {
    const task = record?.tasks.find((t) => t.id === event.task);
    expect(task?.history?.map((a) => [a.attempt, a.status, a.worker])).toEqual([
      [1, 'lost', first],
      [2, 'completed', second],
    ]);
  }
  return lost.length;
}

describe('worker processes', () => {
  it('share one workflow between two processes', async () => {
    fleet = await startFleet(server, { RECOVERY_ENABLED: 'false' });
    await Promise.all([fleet.spawnWorker('w1'), fleet.spawnWorker('w2')]);
    const leaves = Array.from({ length: 300 }, (_, i) => ({
      id: `leaf${i}`,
      type: 'delay',
      depends_on: ['root'],
      parameters: { duration: '50ms' },
    }));
    const workflow = {
      id: 'shared',
      tasks: [
        { id: 'root', type: 'transform', parameters: { output: 1 } },
        ...leaves,
        { id: 'join', type: 'transform', depends_on: leaves.map((l) => l.id), parameters: { output: 'done' } },
      ],
    };
    const { executionId } = await fleet.engine.submit(prepareInline(workflow));
    const record = await waitForEnd(fleet.engine, executionId, fleet.waiter, 60_000);
    expect(record.status).toBe('completed');
    const split = new Map<string, number>();
    for (const t of record.tasks) split.set(t.worker as string, (split.get(t.worker as string) ?? 0) + 1);
    expect([...split.keys()].sort()).toEqual(['w1', 'w2']);
    await Promise.all(fleet.processes.map((p) => fleet.kill(p, 'SIGTERM')));
    await fleet.stop();
  });

  it('completes every run, recording each task once, while workers are killed with SIGKILL', async () => {
    fleet = await startFleet(server, {
      WORKER_LOCK_DURATION: '1s',
      WORKER_STALLED_INTERVAL: '500ms',
      RECOVERY_INTERVAL: '2s',
    });
    const names = ['k1', 'k2', 'k3'];
    const workers = await Promise.all(names.map((n) => fleet.spawnWorker(n)));
    const runs = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const dag = randomDag(100, 100 + i);
        const { executionId } = await fleet.engine.submit(prepareInline({ id: `chaos${i}`, tasks: dag.tasks }));
        return { executionId, expected: dag.expected };
      }),
    );
    // Kill a worker five times while the runs are in flight, restarting it each time.
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      const index = round % workers.length;
      const victim = workers[index];
      if (!victim) continue;
      await fleet.kill(victim, 'SIGKILL');
      kills++;
      workers[index] = await fleet.spawnWorker(`${names[index]}-${round}`);
    }
    expect(kills).toBe(5);
    for (const run of runs) {
      const record = await waitForEnd(fleet.engine, run.executionId, fleet.waiter, 90_000);
      expect([run.executionId, record.status]).toEqual([run.executionId, 'completed']);
      for (const t of record.tasks) expect([t.id, t.output]).toEqual([t.id, run.expected.get(t.id)]);
      const events = await fleet.engine.events(run.executionId, '0', 10_000);
      const completions = events.filter((e) => e.type === 'task.completed').map((e) => e.task);
      expect(completions).toHaveLength(100);
      expect(new Set(completions).size).toBe(100);
    }
  });

  it('loses nothing when a worker is killed with SIGKILL in the middle of chains run inline', async () => {
    const { calls, base, close } = await startWitness();
    try {
      await fleet?.stop(); // the workers of the test before, which do not allow the witness's address
      fleet = await killableFleet();
      const first = await fleet.spawnWorker('chain-1');
      const STEPS = 15;
      const RUNS = 10;
      const ids: string[] = [];
      for (let n = 0; n < RUNS; n++) {
        const tasks = [
          ...Array.from({ length: STEPS }, (_, i) => ({
            id: `s${i}`,
            type: 'http',
            depends_on: i === 0 ? [] : [`s${i - 1}`],
            parameters: { url: `${base}?n=${n}&step=${i}` },
          })),
          // Reads the last step's output, so a replayed chain must hand the right output on.
          {
            id: 'sum',
            type: 'transform',
            depends_on: [`s${STEPS - 1}`],
            parameters: { output: `\${s${STEPS - 1}.output.body.step}` },
          },
        ];
        ids.push((await fleet.engine.submit(prepareInline({ id: `chain${n}`, tasks }))).executionId);
      }
      // Every chain is a few steps in (each carried by its root's job) when the worker dies.
      await waitUntil(async () => calls.size >= 4 * RUNS, 20_000, 'the chains to be under way');
      await fleet.kill(first, 'SIGKILL');
      const seenAtKill = calls.size;
      await fleet.spawnWorker('chain-2');
      let stalled = 0;
      for (const id of ids) {
        const record = await waitForEnd(fleet.engine, id, fleet.waiter, 60_000);
        expect([id, record.status]).toEqual([id, 'completed']);
        expect(record.tasks.find((t) => t.id === 'sum')?.output).toBe(STEPS - 1);
        // A step cut off mid-call is recorded as a lost attempt, then run again by the second worker.
        stalled += await expectRecovered(id, STEPS + 1, 'chain-1', 'chain-2');
      }
      // Every step reached the witness; only a step in flight at the kill (one per chain at most) twice.
      const twice = [...calls.values()].filter((c) => c > 1).length;
      process.stdout.write(
        `chains: ${seenAtKill} of ${RUNS * STEPS} steps called at the kill, ${stalled} lost attempts, ${twice} steps called twice\n`,
      );
      expect(calls.size).toBe(RUNS * STEPS);
      expect([...calls.values()].every((c) => c <= 2)).toBe(true);
      expect(twice).toBeLessThanOrEqual(RUNS);
      expect(stalled).toBeGreaterThan(0);
    } finally {
      close();
    }
  });

  it('loses nothing when a worker is killed with SIGKILL while branches run inline beside each other', async () => {
    // Each run: a root, three chains of http steps beside each other (all carried by the root's job, in slots of
    // their own), and a join that reads their last steps.
    const { calls, base, close } = await startWitness();
    try {
      await fleet?.stop();
      fleet = await killableFleet({ WORKER_CONCURRENCY: '50' });
      const first = await fleet.spawnWorker('branches-1');
      const RUNS = 8;
      const STEPS = 5;
      const BRANCHES = ['x', 'y', 'z'];
      const step = (n: number, b: string, i: number) => ({
        id: `${b}${i}`,
        type: 'http',
        depends_on: [i === 0 ? 'root' : `${b}${i - 1}`],
        parameters: { url: `${base}?n=${n}&step=${b}${i}` },
      });
      const ids: string[] = [];
      for (let n = 0; n < RUNS; n++) {
        const tasks = [
          { id: 'root', type: 'transform', parameters: { output: n } },
          ...BRANCHES.flatMap((b) => Array.from({ length: STEPS }, (_, i) => step(n, b, i))),
          {
            id: 'join',
            type: 'transform',
            depends_on: BRANCHES.map((b) => `${b}${STEPS - 1}`),
            parameters: { output: BRANCHES.map((b) => `\${${b}${STEPS - 1}.output.body.step}`).join('+') },
          },
        ];
        ids.push((await fleet.engine.submit(prepareInline({ id: `branches${n}`, tasks }))).executionId);
      }
      await waitUntil(async () => calls.size >= 2 * BRANCHES.length * RUNS, 20_000, 'the branches to be under way');
      await fleet.kill(first, 'SIGKILL');
      const seenAtKill = calls.size;
      await fleet.spawnWorker('branches-2');
      let stalled = 0;
      const total = BRANCHES.length * STEPS + 2;
      for (const id of ids) {
        const record = await waitForEnd(fleet.engine, id, fleet.waiter, 60_000);
        expect([id, record.status]).toEqual([id, 'completed']);
        expect(record.tasks.find((t) => t.id === 'join')?.output).toBe('x4+y4+z4');
        stalled += await expectRecovered(id, total, 'branches-1', 'branches-2');
      }
      // Every step reached the witness; only one in flight at the kill per branch (three per run at most) twice.
      const twice = [...calls.values()].filter((c) => c > 1).length;
      process.stdout.write(
        `branches: ${seenAtKill} of ${RUNS * BRANCHES.length * STEPS} steps called at the kill, ${stalled} lost attempts, ${twice} steps called twice\n`,
      );
      expect(calls.size).toBe(RUNS * BRANCHES.length * STEPS);
      expect([...calls.values()].every((c) => c <= 2)).toBe(true);
      expect(twice).toBeLessThanOrEqual(RUNS * BRANCHES.length);
      expect(stalled).toBeGreaterThan(0);
    } finally {
      close();
    }
  });
});

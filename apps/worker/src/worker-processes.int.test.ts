import { prepareInline } from '@orch/core';
import { waitForEnd } from '@orch/engine/testing';
import { type RedisServer, startRedisServer } from '@orch/testing';
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
});

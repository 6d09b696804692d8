import { prepareInline } from '@orch/core';
import { waitForEnd } from '@orch/engine/testing';
import { type RedisServer, startRedisServer } from '@orch/testing';
import { buildWorker, randomDag, startFleet, type WorkerFleet } from './test-worker-processes';

jest.setTimeout(120_000);

let server: RedisServer;
let fleet: WorkerFleet;
beforeAll(async () => {
  buildWorker();
  server = await startRedisServer({ appendonly: true });
});
afterAll(async () => {
  await fleet?.stop();
  await server?.stop();
});

it('completes every run when Redis (appendonly yes) restarts mid-run', async () => {
  fleet = await startFleet(server, {
    WORKER_LOCK_DURATION: '2s',
    WORKER_STALLED_INTERVAL: '1s',
    RECOVERY_INTERVAL: '2s',
  });
  await Promise.all([fleet.spawnWorker('r1'), fleet.spawnWorker('r2')]);
  const runs = [];
  for (let i = 0; i < 10; i++) {
    const dag = randomDag(60, 500 + i);
    // A delay in the middle keeps every run in flight across the restart.
    const tasks = [
      ...dag.tasks,
      { id: 'pause', type: 'delay', depends_on: ['n0'], parameters: { duration: '1500ms' } },
    ];
    const { executionId } = await fleet.engine.submit(prepareInline({ id: `restart${i}`, tasks }));
    runs.push({ executionId, expected: dag.expected });
  }
  for (const run of runs) await fleet.waitForEvent(run.executionId, 'task.started', 'pause');
  await server.restart();
  // The waiter subscribes next: it must be reconnected first, or ioredis's ready check (INFO) runs on a connection
  // that already sent SUBSCRIBE from its offline queue, fails ("only subscriber commands may be used"), and the
  // finished messages are never heard (seen on a loaded machine).
  await fleet.waiter.ping();
  for (const run of runs) {
    const record = await waitForEnd(fleet.engine, run.executionId, fleet.waiter, 90_000);
    expect([run.executionId, record.status]).toEqual([run.executionId, 'completed']);
    for (const t of record.tasks)
      if (t.id !== 'pause') expect([t.id, t.output]).toEqual([t.id, run.expected.get(t.id)]);
  }
  for (const child of fleet.processes) expect(child.exitCode).toBeNull(); // nothing crashed
});

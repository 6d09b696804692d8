import { ScheduleManager } from '@orch/engine';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import { buildWorker, startFleet, type WorkerFleet } from './test-worker-processes';

jest.setTimeout(60_000);

let server: RedisServer;
let fleet: WorkerFleet;
beforeAll(async () => {
  buildWorker();
  server = await startRedisServer();
  fleet = await startFleet(server, { RECOVERY_ENABLED: 'false' });
  await Promise.all([fleet.spawnWorker('s1'), fleet.spawnWorker('s2')]);
});
afterAll(async () => {
  await fleet?.stop();
  await server?.stop();
});

it('fires a schedule once per tick with two worker processes running it', async () => {
  const schedules = new ScheduleManager(fleet.engine);
  const finished: string[] = [];
  const enough = new Promise<void>((resolve) => {
    fleet.waiter.on('message', (_channel: string, message: string) => {
      finished.push((JSON.parse(message) as { execution_id: string }).execution_id);
      if (finished.length >= 4) resolve();
    });
  });
  await fleet.waiter.subscribe(fleet.engine.finishedChannel());
  await schedules.upsert({
    id: 'tick',
    cron: '* * * * * *',
    overlap: 'allow',
    workflow: { id: 'tick', tasks: [{ id: 't', type: 'transform', parameters: { output: 1 } }] },
  });
  await withDeadline(enough, 20_000, 'four scheduled runs');
  await schedules.remove('tick');
  const firings = await schedules.firings('tick');
  // remove() drops the history; the runs themselves tell the story: one per fire time.
  expect(firings).toEqual([]);
  const records = await Promise.all(finished.map((id) => fleet.engine.get(id)));
  const fireTimes = records.map((r) => r.correlation_id);
  expect(new Set(fireTimes).size).toBe(records.length);
  for (const r of records) expect(r.correlation_id).toMatch(/^tick:\d+$/);
  // Consecutive fire times are a second apart: no tick was fired twice, by either process.
  const times = fireTimes.map((c) => Number(c?.split(':')[1])).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++)
    expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(1000);
});

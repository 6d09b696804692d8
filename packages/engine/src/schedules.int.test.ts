import { withDeadline } from '@orch/testing';
import type { EngineWorker } from './engine-worker';
import { ScheduleManager } from './schedule-manager';
import { type Harness, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let schedules: ScheduleManager;
let workers: EngineWorker[];
beforeAll(async () => {
  h = await startHarness();
  // Two workers on one Redis: each firing must still start exactly one run.
  workers = [await h.startWorker({ concurrency: 5 }), await h.startWorker({ concurrency: 5 })];
  schedules = new ScheduleManager(h.engine);
});
afterAll(() => h.stop());

const tick = wf([{ id: 'tick', type: 'transform', parameters: { output: '${label}' } }], { variables: { label: 'x' } });

/** Resolves once the workers have recorded `count` firings of `id` in total (both workers' firing events). */
async function firedAtLeast(id: string, count: number, timeoutMs = 15_000) {
  const done = new Promise<void>((resolve) => {
    const check = async () => {
      if ((await schedules.get(id)).fired >= count) {
        for (const w of workers) w.schedules.off('firing', check);
        resolve();
      }
    };
    for (const w of workers) w.schedules.on('firing', check);
    void check();
  });
  await withDeadline(done, timeoutMs, `${count} firings of ${id}`);
  return schedules.get(id);
}

describe('schedules', () => {
  it('fires every second, starting one run per firing with a correlation id per fire time', async () => {
    await schedules.upsert({
      id: 'every-second',
      cron: '* * * * * *',
      workflow: tick,
      variables: { label: 'tick' },
      overlap: 'allow',
    });
    const schedule = await firedAtLeast('every-second', 3);
    expect(schedule.next_run_at).toBeDefined();
    const firings = await schedules.firings('every-second');
    const ids = firings.map((f) => f.execution_id);
    expect(new Set(ids).size).toBe(ids.length); // one run per firing, even with two workers
    const times = firings.map((f) => f.fired_at);
    expect(new Set(times).size).toBe(times.length);
    const run = await h.waitForEnd(ids[ids.length - 1] as string);
    expect(run.status).toBe('completed');
    expect(run.correlation_id).toBe(`every-second:${Date.parse(firings.at(-1)?.fired_at as string)}`);
    expect(run.tasks[0]?.output).toBe('tick');
  });

  it('stops firing while paused and fires again after resume; delete removes it', async () => {
    const paused = await schedules.pause('every-second');
    expect(paused.paused).toBe(true);
    expect(paused.next_run_at).toBeUndefined();
    expect(await h.ctx.queues.control.getJobScheduler('schedule:every-second')).toBeUndefined();
    const before = paused.fired;
    await schedules.resume('every-second');
    expect((await firedAtLeast('every-second', before + 1)).paused).toBe(false);
    await schedules.remove('every-second');
    await expect(schedules.get('every-second')).rejects.toThrow("schedule 'every-second' was not found");
    expect(await h.ctx.queues.control.getJobScheduler('schedule:every-second')).toBeUndefined();
  });

  it('records a firing as skipped while the previous run is still active (overlap: skip)', async () => {
    const slow = wf([{ id: 'wait', type: 'delay', parameters: { duration: '5s' } }]);
    await schedules.upsert({ id: 'no-overlap', cron: '* * * * * *', workflow: slow });
    const firstRun = (await firedAtLeast('no-overlap', 1)).last_execution_id as string;
    // The next tick comes while the 5 s run is still going.
    const schedule = await firedAtLeast('no-overlap', 2);
    expect(schedule.skipped).toBeGreaterThanOrEqual(1);
    expect(schedule.last_execution_id).toBe(firstRun);
    expect((await schedules.firings('no-overlap')).find((f) => f.skipped)?.skipped).toBe(
      `run ${firstRun} is still running`,
    );
    await schedules.remove('no-overlap');
    await h.engine.cancel(firstRun);
  });

  it('refuses an invalid cron pattern', async () => {
    await expect(schedules.upsert({ id: 'bad', cron: 'every tuesday', workflow: tick })).rejects.toThrow(
      "invalid schedule 'bad'",
    );
  });
});

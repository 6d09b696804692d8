import { delay } from './delay';
import type { ControlContext, Simulation, WaitingJob } from './task-type';

/** A job whose waits are recorded instead of parking anything. */
function fakeJob(state: { until?: number } = {}) {
  const slept: number[] = [];
  const job: WaitingJob<{ until: number }> = {
    id: 'run.wait',
    state,
    save: async (more) => {
      Object.assign(state, more);
    },
    sleepUntil: async (at) => {
      slept.push(at);
      throw new Error('parked');
    },
    park: async () => {
      throw new Error('parked');
    },
  };
  return { job, state, slept };
}

const run = (parameters: { duration: number | string }, job: WaitingJob<{ until: number }>, attempt = 1) =>
  delay.run.run({ parameters, source: { id: 'wait', type: 'delay' }, scope: {} }, job, { attempt } as ControlContext);

describe('the delay task type', () => {
  it('parks its job until the duration has passed, then completes', async () => {
    const { job, state, slept } = fakeJob();
    const before = Date.now();
    await expect(run({ duration: '2s' }, job)).rejects.toThrow('parked');
    expect(state.until).toBeGreaterThanOrEqual(before + 2000);
    expect(slept).toEqual([state.until]);
    // Woken early (a dashboard promoted it): it waits out the rest.
    await expect(run({ duration: '2s' }, job)).rejects.toThrow('parked');
    expect(slept).toEqual([state.until, state.until]);
    // Its time has come.
    state.until = Date.now() - 1;
    await expect(run({ duration: '2s' }, job)).resolves.toEqual({ delayed_ms: 2000 });
  });

  it('waits the whole duration again on a retry (after a timeout, say)', async () => {
    const { job, state, slept } = fakeJob();
    await expect(run({ duration: '2s' }, job)).rejects.toThrow('parked');
    state.until = Date.now() - 1;
    const before = Date.now();
    await expect(run({ duration: '2s' }, job, 2)).rejects.toThrow('parked');
    expect(slept).toHaveLength(2);
    expect(slept[1]).toBeGreaterThanOrEqual(before + 2000);
  });

  it('simulates at once, reporting a duration that does not parse', () => {
    const reported: [string, string][] = [];
    const sim: Simulation = {
      resolve: (value) => value,
      report: (pointer, message) => reported.push([pointer, message]),
      with: () => sim,
      simulate: () => undefined,
    };
    expect(delay.simulate({ type: 'delay', parameters: { duration: '5m' } }, '/tasks/0', sim)).toEqual({});
    expect(reported).toEqual([]);
    delay.simulate({ type: 'delay', parameters: { duration: 'soon' } }, '/tasks/1', sim);
    expect(reported.map(([pointer]) => pointer)).toEqual(['/tasks/1/parameters/duration']);
  });
});

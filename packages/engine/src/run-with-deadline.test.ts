import { runWithDeadline } from './run-with-deadline';
import type { TaskContext } from './task-handler';

const contextFor = () => ({}) as TaskContext;

describe('runWithDeadline', () => {
  it("reports a handler's own deadline error, raised as the timeout falls due, as the task's timeout", async () => {
    const context = contextFor();
    // The handler fails on its own clock at the shared deadline, before the runner's timer has fired.
    const handler = async (_: unknown, ctx: TaskContext) => {
      while (Date.now() < (ctx.deadline ?? 0)) await new Promise((r) => setImmediate(r));
      throw new Error('exec-agent did not answer within 50 ms');
    };
    // The runner's timer must not win the race here: it is held (fake), the clock is real.
    jest.useFakeTimers({ doNotFake: ['Date', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    const error = await runWithDeadline(handler, {}, context, undefined, 50, 'sleep')
      .catch((e: Error) => e)
      .finally(() => jest.useRealTimers());
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('task sleep timed out after 50 ms');
    expect(((error as Error).cause as Error).message).toBe('exec-agent did not answer within 50 ms');
  });

  it('passes on an error raised before the deadline as it is', async () => {
    const handler = async () => {
      throw new Error('bad input');
    };
    await expect(runWithDeadline(handler, {}, contextFor(), undefined, 10_000, 'a')).rejects.toThrow('bad input');
  });

  it('times out a handler that never settles', async () => {
    const handler = () => new Promise<never>(() => undefined);
    await expect(runWithDeadline(handler, {}, contextFor(), undefined, 20, 'b')).rejects.toThrow(
      'task b timed out after 20 ms',
    );
  });
});

import { RunWaiters } from './run-waiters';

describe('RunWaiters', () => {
  it('wakes a waiter registered before the run ended, even if the end came before until()', async () => {
    const waiters = new RunWaiters();
    const waiting = waiters.expect('run-1');
    waiters.finished('run-1', 'completed');
    await expect(waiting.until(60_000)).resolves.toEqual({ finished: true, status: 'completed' });
    expect(waiters.size).toBe(0);
  });

  it('ignores the end of other runs and times out as not finished', async () => {
    const waiters = new RunWaiters();
    const waiting = waiters.expect('run-1');
    waiters.finished('run-2', 'completed');
    await expect(waiting.until(5)).resolves.toEqual({ finished: false });
    expect(waiters.size).toBe(0);
  });

  it('hands over the record the finished message carried, reading it only for a run that is waited for', async () => {
    const waiters = new RunWaiters();
    const record = { meta: { status: 'completed' }, tasks: new Map([['a', '{"s":"completed"}']]), outputs: new Map() };
    const read = jest.fn(() => record);
    waiters.finished('nobody-waits', 'completed', read);
    expect(read).not.toHaveBeenCalled();
    const waiting = waiters.expect('run-1');
    waiters.finished('run-1', 'completed', read);
    await expect(waiting.until(60_000)).resolves.toEqual({ finished: true, status: 'completed', record });
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('wakes every waiter of the same run', async () => {
    const waiters = new RunWaiters();
    const [a, b] = [waiters.expect('run-1'), waiters.expect('run-1')];
    const outcomes = Promise.all([a.until(60_000), b.until(60_000)]);
    waiters.finished('run-1', 'failed');
    expect((await outcomes).map((o) => o.finished)).toEqual([true, true]);
  });

  it('stops waiting when the request goes away, when cancelled, and when closed', async () => {
    const waiters = new RunWaiters();
    const gone = new AbortController();
    const left = waiters.expect('a').until(60_000, gone.signal);
    gone.abort();
    await expect(left).resolves.toEqual({ finished: false });
    const cancelled = waiters.expect('b');
    cancelled.cancel();
    await expect(cancelled.until(60_000)).resolves.toEqual({ finished: false });
    const open = waiters.expect('c').until(60_000);
    waiters.close();
    await expect(open).resolves.toEqual({ finished: false });
    await expect(waiters.expect('d').until(60_000)).resolves.toEqual({ finished: false });
    expect(waiters.size).toBe(0);
  });
});

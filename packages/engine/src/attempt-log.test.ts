import { silentLogger } from '@orch/logger';
import { AttemptLog, MAX_LOG_LINE_CHARS } from './attempt-log';
import type { LogEntryInput } from './log-entry';
import type { TaskLogStore } from './task-log-store';

/** A store that records each append (a batch) instead of writing it. */
function recorder(capBytes = 1024 * 1024) {
  const batches: LogEntryInput[][] = [];
  const store = {
    capBytes,
    append: async (_id: string, _task: string, _attempt: number, entries: readonly LogEntryInput[]) => {
      batches.push([...entries]);
      return entries.length;
    },
  } as unknown as TaskLogStore;
  return { batches, log: new AttemptLog(store, 'run', 'task', 1, () => silentLogger()) };
}

describe('AttemptLog', () => {
  it('sends the lines written at once in one batch, in order, and the ending after them', async () => {
    const { batches, log } = recorder();
    log.write('one');
    log.write('two', { level: 'warn', stream: 'stderr' });
    await log.end('completed');
    expect(batches.flat().map((e) => [e.stream, e.level, e.text])).toEqual([
      ['log', 'info', 'one'],
      ['stderr', 'warn', 'two'],
      ['end', 'completed', ''],
    ]);
    expect(batches).toHaveLength(1);
    log.write('after the end');
    await log.end('failed');
    expect(batches.flat()).toHaveLength(3);
  });

  it('writes no ending for an attempt that wrote nothing', async () => {
    const { batches, log } = recorder();
    await log.end('completed');
    expect(batches).toEqual([]);
  });

  it('takes an unknown level or stream as info on the log, and cuts a line that is too long', async () => {
    const { batches, log } = recorder();
    log.write('x'.repeat(MAX_LOG_LINE_CHARS + 10), { level: 'loud' as never, stream: 'elsewhere' as never });
    await log.end('completed');
    const [line] = batches.flat();
    expect(line).toMatchObject({ stream: 'log', level: 'info' });
    expect(line?.text).toBe(`${'x'.repeat(MAX_LOG_LINE_CHARS)}… (10 more characters cut)`);
  });

  it('stops queueing well past the cap, where Redis would drop every line anyway', async () => {
    const { batches, log } = recorder(1024);
    for (let i = 0; i < 10_000; i++) log.write('y'.repeat(100));
    await log.end('completed');
    const lines = batches.flat().filter((e) => e.stream !== 'end');
    expect(lines.length).toBeLessThan(200);
    expect(lines.length * 116).toBeGreaterThan(1024);
    expect(batches.flat().at(-1)).toMatchObject({ stream: 'end' });
  });
});

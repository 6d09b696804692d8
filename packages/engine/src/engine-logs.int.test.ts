import { NotFoundError } from '@orch/errors';
import { withDeadline } from '@orch/testing';
import type { TaskHandler } from './task-handler';
import { type Harness, startHarness, wf } from './testing';

jest.setTimeout(60_000);

const TTL_MS = 600_000;
let h: Harness;
/** The `data` handler's script, by the `input.script` parameter: what each attempt logs and how it ends. */
const scripts: Record<string, TaskHandler> = {
  retried: async (_p, ctx) => {
    if (ctx.attempt === 1) {
      ctx.log('connecting');
      ctx.log('slow answer', { level: 'warn' });
      ctx.log('partial row', { stream: 'stdout' });
      throw new Error('connection reset');
    }
    ctx.log('second try');
    return 'ok';
  },
  chatty: async (_p, ctx) => {
    for (let i = 0; i < 100; i++) ctx.log(`line ${i} ${'x'.repeat(40)}`);
    return 'done';
  },
  silent: async () => 'quiet',
  item: async (p, ctx) => {
    ctx.log(`item ${(p.input as { n: number }).n}`);
    return null;
  },
};
const data: TaskHandler = (parameters, context) =>
  (scripts[(parameters.input as { script: string }).script] as TaskHandler)(parameters, context);
const task = (id: string, script: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'data',
  parameters: { operation: 'search', input: { script } },
  ...extra,
});

beforeAll(async () => {
  h = await startHarness({ taskLogMaxBytes: 2048, executionTtlMs: TTL_MS });
  await h.startWorker({ concurrency: 10, handlers: { data } });
});
afterAll(() => h.stop());

/** Resolves once `key` has a TTL: at once, or on its keyspace `expire` event. */
async function expired(key: string): Promise<void> {
  await h.connection.config('SET', 'notify-keyspace-events', 'Kg');
  const listener = h.connection.duplicate();
  try {
    const event = new Promise<void>((resolve) =>
      listener.on('message', (_channel, type) => type === 'expire' && resolve()),
    );
    await listener.subscribe(`__keyspace@0__:${key}`);
    if ((await h.connection.pttl(key)) < 0) await withDeadline(event, 10_000, `a TTL on ${key}`);
  } finally {
    listener.disconnect();
  }
}

describe('task logs', () => {
  it('keeps each attempt’s lines apart, in order, with their level, stream and how the attempt ended', async () => {
    const record = await h.run(wf([task('a', 'retried', { retry_policy: { max_retries: 1, initial_delay: '10ms' } })]));
    expect(record.status).toBe('completed');
    const latest = await h.engine.taskLogs(record.execution_id, 'a');
    expect(latest).toMatchObject({ task: 'a', attempt: 2, attempts: [1, 2], ended: true, ending: 'completed' });
    expect(latest.lines.map((l) => l.message)).toEqual(['second try']);
    const first = await h.engine.taskLogs(record.execution_id, 'a', { attempt: 1 });
    expect(first).toMatchObject({ attempt: 1, ended: true, ending: 'retrying', capped: false });
    expect(first.lines.map((l) => [l.stream, l.level, l.message])).toEqual([
      ['log', 'info', 'connecting'],
      ['log', 'warn', 'slow answer'],
      ['stdout', 'info', 'partial row'],
    ]);
    expect(Date.parse(first.lines[0]?.at as string)).toBeLessThanOrEqual(Date.parse(first.lines[2]?.at as string));
    // Pages: after a line id, only what follows it.
    const page = await h.engine.taskLogs(record.execution_id, 'a', { attempt: 1, limit: 2 });
    expect(page.lines).toHaveLength(2);
    const rest = await h.engine.taskLogs(record.execution_id, 'a', { attempt: 1, after: page.next_after as string });
    expect(rest.lines.map((l) => l.message)).toEqual(['partial row']);
  });

  it('stops at TASK_LOG_MAX_BYTES with one marker line, and still records how the attempt ended', async () => {
    const record = await h.run(wf([task('loud', 'chatty')]));
    const log = await h.engine.taskLogs(record.execution_id, 'loud');
    expect(log).toMatchObject({ capped: true, ended: true, ending: 'completed' });
    expect(log.lines.length).toBeLessThan(100);
    expect(log.lines.at(-1)).toMatchObject({
      level: 'warn',
      message: expect.stringContaining('at most 2048 bytes (TASK_LOG_MAX_BYTES); later lines were dropped'),
    });
    expect(log.lines.slice(0, -1).map((l) => l.message)).toEqual(
      log.lines.slice(0, -1).map((_, i) => `line ${i} ${'x'.repeat(40)}`),
    );
  });

  it('an attempt that wrote nothing has an empty log that is over once the task is', async () => {
    const record = await h.run(wf([task('q', 'silent')]));
    expect(await h.engine.taskLogs(record.execution_id, 'q')).toMatchObject({
      attempt: 1,
      attempts: [],
      lines: [],
      ended: true,
      capped: false,
    });
  });

  it('keeps a parallel task’s items’ logs as <task>[<index>]', async () => {
    const record = await h.run(
      wf([
        {
          id: 'p',
          type: 'parallel',
          parameters: {
            for_each: [1, 2],
            task: { type: 'data', parameters: { operation: 'search', input: { script: 'item', n: '${item}' } } },
          },
        },
      ]),
    );
    expect(record.status).toBe('completed');
    const second = await h.engine.taskLogs(record.execution_id, 'p[1]');
    expect(second).toMatchObject({ ended: true, ending: 'completed' });
    expect(second.lines.map((l) => l.message)).toEqual(['item 2']);
    await expect(h.engine.taskLogs(record.execution_id, 'q[0]')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('gives every log the run’s TTL when the run ends, and a late line too; nothing for a run that is gone', async () => {
    const record = await h.run(wf([task('a', 'retried', { retry_policy: { max_retries: 1, initial_delay: '10ms' } })]));
    const id = record.execution_id;
    const keys = [h.ctx.keys.taskLog(id, 'a', 1), h.ctx.keys.taskLog(id, 'a', 2), h.ctx.keys.taskLogs(id)];
    // The index gets its TTL as the run ends (in the same script), the streams it lists just after.
    for (const key of keys) await expired(key);
    for (const key of keys) {
      const ttl = await h.connection.pttl(key);
      expect(ttl).toBeGreaterThan(TTL_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(TTL_MS);
    }
    await h.ctx.logs.append(id, 'a', 3, [{ stream: 'log', level: 'info', text: 'late', at: Date.now() }]);
    expect(await h.connection.pttl(h.ctx.keys.taskLog(id, 'a', 3))).toBeGreaterThan(0);
    expect(await h.ctx.logs.append('no-such-run', 'a', 1, [{ stream: 'log', level: 'info', text: 'x', at: 1 }])).toBe(
      0,
    );
    expect(await h.connection.exists(h.ctx.keys.taskLog('no-such-run', 'a', 1))).toBe(0);
  });

  it('answers NotFoundError for an unknown run or task', async () => {
    const record = await h.run(wf([task('q', 'silent')]));
    await expect(h.engine.taskLogs('no-such-run', 'q')).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.engine.taskLogs(record.execution_id, 'nope')).rejects.toThrow("task 'nope' was not found");
  });

  it('follows a running attempt: lines as they come, and over once the task ended', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    scripts.held = async (_p, ctx) => {
      ctx.log('before');
      await gate;
      ctx.log('after');
      return null;
    };
    const id = await h.submit(wf([task('held', 'held')]));
    const follower = await h.engine.followTaskLogs(id, 'held');
    const connection = h.connection.duplicate();
    try {
      const first = await withDeadline(
        (async () => {
          for (;;) {
            const read = await follower.wait(connection, '0', { count: 10, blockMs: 1000 });
            if (read) return read;
          }
        })(),
        10_000,
        'the first line',
      );
      expect(first.lines.map((l) => l.message)).toEqual(['before']);
      expect(await follower.over()).toBe(false);
      release();
      const rest = await withDeadline(
        follower.wait(connection, first.last as string, { count: 10, blockMs: 10_000 }),
        12_000,
        'the rest',
      );
      expect(rest?.lines.map((l) => l.message)).toEqual(['after']);
      await h.waitForEnd(id);
      expect(await follower.over()).toBe(true);
    } finally {
      connection.disconnect();
    }
  });
});

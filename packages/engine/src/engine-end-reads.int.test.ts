import { prepareInline } from '@orch/core';
import { createRedisConnection } from '@orch/redis';
import { withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import { FINISHED_RECORD_CAP } from './run-ending';
import { finishedRecord } from './script-inputs';
import { type Harness, probe, startHarness, wf } from './testing';
import { WorkflowEngine } from './workflow-engine';

jest.setTimeout(60_000);

let h: Harness;
/** Submits and reads records, as the API's process does: the harness's engine is the worker's. */
let api: WorkflowEngine;
let subscriber: Redis;
let monitor: Redis;
const messages = new Map<string, Record<string, unknown>>();
const arrived = new Map<string, () => void>();
/** Commands clients (not scripts) sent on a run's keys while MONITOR was on, as `COMMAND key`. */
const commands: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 10 });
  const settings = { host: h.server.host, port: h.server.port };
  api = new WorkflowEngine({
    connection: createRedisConnection(settings, 'api'),
    prefix: 'test',
    maxConcurrentWorkflows: 100,
    executionTtlMs: 600_000,
    defaultWorkflowTimeoutMs: 120_000,
  });
  subscriber = createRedisConnection(settings, 'worker');
  subscriber.on('message', (_channel: string, text: string) => {
    const message = JSON.parse(text) as Record<string, unknown>;
    messages.set(String(message.execution_id), message);
    arrived.get(String(message.execution_id))?.();
  });
  await subscriber.subscribe(h.engine.finishedChannel());
  monitor = await createRedisConnection(settings, 'worker').monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua' && /:x:/.test(args[1] ?? '')) commands.push(`${args[0]?.toUpperCase()} ${args[1]}`);
  });
});
afterAll(async () => {
  monitor.disconnect();
  subscriber.disconnect();
  await api.close();
  await h.stop();
});

/** Submits and resolves with the run's finished message once it has arrived. */
async function finish(workflow: unknown, awaited: boolean): Promise<{ id: string; message: Record<string, unknown> }> {
  const id = api.newExecutionId();
  const heard = new Promise<void>((resolve) => arrived.set(id, resolve));
  await api.submit(prepareInline(workflow, {}), { executionId: id, awaited });
  await withDeadline(heard, 10_000, `the finished message of ${id}`);
  return { id, message: messages.get(id) as Record<string, unknown> };
}

/** Resolves once MONITOR has shown every command Redis ran before this call (it shows them in order). */
async function monitored(): Promise<void> {
  const marker = `test:x:{marker-${Date.now()}}:meta`;
  await h.connection.exists(marker);
  const seen = () => commands.includes(`EXISTS ${marker}`);
  await withDeadline(
    (async () => {
      while (!seen()) await new Promise((resolve) => monitor.once('monitor', resolve));
    })(),
    5_000,
    'MONITOR to show the marker',
  );
}

const chain = wf([probe('a', [], { value: { n: 1 } }), probe('b', ['a'], { value: 'done' })]);

describe('the end of a run without reads', () => {
  it("carries an awaited run's final record in its finished message, equal to the one read", async () => {
    commands.length = 0;
    const { id, message } = await finish(chain, true);
    const carried = finishedRecord(message as never);
    expect(carried).toBeDefined();
    const fromMessage = await api.get(id, { carried });
    await monitored();
    // The end read neither the meta nor the completion records (complete-task returned them), and the record
    // built from the message read nothing: no client read any hash of the run.
    expect(commands.filter((c) => c.startsWith('HGETALL') && c.includes(`{${id}}`))).toEqual([]);
    const read = await api.get(id);
    expect(fromMessage).toEqual(read);
    expect(read).toMatchObject({ status: 'completed', tasks: [{ output: { n: 1 } }, { output: 'done' }] });
  });

  it('carries tasks named like Object members as they are', async () => {
    const odd = wf([probe('toString', [], { value: 1 }), probe('hasOwnProperty', ['toString'], { value: 2 })]);
    const { id, message } = await finish(odd, true);
    const fromMessage = await api.get(id, { carried: finishedRecord(message as never) });
    expect(fromMessage.tasks.map((t) => [t.id, t.status, t.output])).toEqual([
      ['toString', 'completed', 1],
      ['hasOwnProperty', 'completed', 2],
    ]);
    expect(fromMessage).toEqual(await api.get(id));
  });

  it('carries no record for a run nobody waits for, nor for one over the cap', async () => {
    expect((await finish(chain, false)).message).not.toHaveProperty('record');
    const big = wf([probe('a', [], { value: 'x'.repeat(FINISHED_RECORD_CAP) })]);
    const { id, message } = await finish(big, true);
    expect(message).toMatchObject({ execution_id: id, status: 'completed' });
    expect(message).not.toHaveProperty('record');
    expect((await api.get(id)).tasks[0]?.output).toHaveLength(FINISHED_RECORD_CAP);
  });

  it('reads the record in a process that does not hold the definition (the worker forgot it at the end)', async () => {
    const { id, message } = await finish(chain, true);
    const carried = finishedRecord(message as never);
    expect(carried).toBeDefined();
    const elsewhere = await h.engine.get(id, { carried });
    expect(elsewhere).toEqual(await api.get(id));
    expect(elsewhere.tasks.map((t) => t.status)).toEqual(['completed', 'completed']);
  });

  it('hands the record back to the worker only for a bus reply: an awaited one goes in the message alone', async () => {
    const held = wf([probe('a', [], { sleep_ms: 300 })]);
    const end = async (options: { awaited?: boolean; respondTo?: string }) => {
      const id = api.newExecutionId();
      const heard = new Promise<void>((resolve) => arrived.set(id, resolve));
      await api.submit(prepareInline(held, {}), { executionId: id, ...options });
      await h.started('a');
      const reply = await h.ctx.store.scripts.finalize(id, {
        status: 'cancelled',
        error: 'ended by the test',
        ttlMs: 600_000,
        unfinishedStatus: 'cancelled',
        unfinished: ['a'],
        channel: h.engine.finishedChannel(),
        recordCap: FINISHED_RECORD_CAP,
        admission: { limit: 100, startGraceMs: 5_000 },
      });
      await withDeadline(heard, 10_000, `the finished message of ${id}`);
      h.calls.length = 0;
      return { reply, message: messages.get(id) as Record<string, unknown> };
    };
    const awaited = await end({ awaited: true });
    expect(awaited.reply?.respondTo).toBe('');
    expect(awaited.reply?.record).toBeUndefined();
    expect(finishedRecord(awaited.message)?.meta.status).toBe('cancelled');
    const bus = await end({ respondTo: 'test-replies' });
    expect(bus.reply?.respondTo).toBe('test-replies');
    expect(bus.reply?.record?.meta.status).toBe('cancelled');
    expect(bus.message).not.toHaveProperty('record');
  });
});

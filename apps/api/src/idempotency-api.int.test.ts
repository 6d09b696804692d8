import { CORRELATION_ID_HINT } from '@orch/core';
import type { EngineWorker } from '@orch/engine';
import { withDeadline } from '@orch/testing';
import { ChannelRecorder, type Harness, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

const KEYS = { ci: 'ci-key-000000001', mallory: 'mallory-key-00002' };

let h: Harness;
let worker: EngineWorker;
/** An API without keys (every caller in one anonymous space, the bus's too) and one with two keys. */
let open: TestApi;
let keyed: TestApi;
let responses: ChannelRecorder;
beforeAll(async () => {
  h = await startHarness();
  worker = await h.startWorker({ concurrency: 10 });
  open = await startApi(h);
  keyed = await startApi(h, { ORCHESTRATOR_API_KEYS: `ci:${KEYS.ci}:read+run,mallory:${KEYS.mallory}:read+run` });
  responses = await ChannelRecorder.start(h, 'workflow-responses');
});
afterAll(async () => {
  await Promise.all([open?.service.close(), keyed?.service.close()]);
  await responses?.stop();
  await h?.stop();
});

const say = (id: string, word: string) => wf([{ id, type: 'transform', parameters: { output: word } }]);
const submit = (api: TestApi, body: unknown, key?: string) =>
  api.call('POST', '/api/v1/workflows', { body, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) });

describe('ids the engine makes cannot be claimed by a request', () => {
  it("a pre-claimed '<parent>.<task>.1' does not become the parent's sub-workflow", async () => {
    const parent = await submit(open, {
      workflow: wf([
        { id: 'gate', type: 'approval', parameters: { message: 'go?' } },
        { id: 'sub', type: 'workflow', depends_on: ['gate'], parameters: { workflow: say('real', 'genuine') } },
      ]),
    });
    const pid = parent.body.execution_id as string;
    // The attacker knows the parent's id and claims the id its sub-workflow task would start the child under.
    const evil = await submit(open, { correlation_id: `${pid}.sub.1`, workflow: say('real', 'forged') });
    expect(evil.status).toBe(202);
    expect((await open.call('POST', `/api/v1/workflows/${pid}/tasks/gate/approve`, { body: {} })).status).toBe(200);

    const record = await h.waitForEnd(pid, 20_000);
    expect(record.status).toBe('completed');
    const sub = record.tasks.find((t) => t.id === 'sub')?.output as { execution_id: string; outputs: unknown };
    expect(sub.outputs).toEqual({ real: 'genuine' });
    expect(sub.execution_id).not.toBe(evil.body.execution_id);
    // The child records its parent; the attacker's run stays a run of its own.
    const child = await open.call('GET', `/api/v1/workflows/${sub.execution_id}`);
    expect(child.body).toMatchObject({
      parent_execution_id: pid,
      parent_task_id: 'sub',
      correlation_id: `${pid}.sub.1`,
    });
    const forged = await open.call('GET', `/api/v1/workflows/${evil.body.execution_id}`);
    expect(forged.body.parent_execution_id).toBeUndefined();
  });

  it('pre-claimed schedule firing ids (<schedule>:<fire time>) hijack no firing', async () => {
    // Every second boundary of the next 8 s, claimed before the schedule exists.
    const first = Math.ceil(Date.now() / 1000) * 1000;
    const forged = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const answer = await submit(open, {
        correlation_id: `ticker:${first + k * 1000}`,
        workflow: say('tick', 'forged'),
      });
      expect(answer.status).toBe(202);
      forged.add(answer.body.execution_id);
    }
    const fired: string[] = [];
    const enough = new Promise<void>((resolve) => {
      const onFiring = (schedule: string, firing: { execution_id?: string }) => {
        if (schedule === 'ticker' && firing.execution_id) fired.push(firing.execution_id);
        if (fired.length >= 3) resolve();
      };
      worker.schedules.on('firing', onFiring);
    });
    const created = await open.call('POST', '/api/v1/schedules', {
      body: { id: 'ticker', cron: '* * * * * *', workflow: say('tick', 'scheduled'), overlap: 'allow' },
    });
    expect(created.status).toBe(201);
    await withDeadline(enough, 20_000, '3 firings of ticker');
    await open.call('DELETE', '/api/v1/schedules/ticker');
    for (const id of fired) {
      expect(forged.has(id)).toBe(false);
      const record = await h.waitForEnd(id, 10_000);
      expect(record.tasks[0]?.output).toBe('scheduled');
    }
  });
});

describe('client correlation ids', () => {
  it("live in a space per API key: guessing another key's id starts a run of one's own", async () => {
    const body = { correlation_id: 'order-1', workflow: say('pay', 'paid') };
    const ci = await submit(keyed, body, KEYS.ci);
    expect(ci).toMatchObject({ status: 202, body: { created: true } });
    const mallory = await submit(keyed, body, KEYS.mallory);
    expect(mallory).toMatchObject({ status: 202, body: { created: true, correlation_id: 'order-1' } });
    expect(mallory.body.execution_id).not.toBe(ci.body.execution_id);
    // Each key's retry still answers its own run.
    expect((await submit(keyed, body, KEYS.ci)).body).toMatchObject({
      execution_id: ci.body.execution_id,
      created: false,
    });
    expect((await submit(keyed, body, KEYS.mallory)).body).toMatchObject({
      execution_id: mallory.body.execution_id,
      created: false,
    });
    const record = await keyed.call('GET', `/api/v1/workflows/${mallory.body.execution_id}`, {
      headers: { authorization: `Bearer ${KEYS.mallory}` },
    });
    expect(record.body).toMatchObject({ submitted_by: 'mallory', correlation_id: 'order-1' });
  });

  it('answer 409 naming the first run when reused with a different body, 200 with the same body', async () => {
    const first = await submit(open, { correlation_id: 'invoice-7', workflow: say('bill', 'ten'), variables: {} });
    expect(first.status).toBe(202);
    const id = first.body.execution_id as string;
    const other = await submit(open, { correlation_id: 'invoice-7', workflow: say('bill', 'twenty'), variables: {} });
    expect(other.status).toBe(409);
    expect(other.body.error).toEqual({
      code: 'CONFLICT',
      message:
        `correlation id 'invoice-7' was already used for execution ${id} with a different request body; send the ` +
        'same body to get that run, or use a new correlation id',
      details: [{ pointer: '/correlation_id', message: `already used for execution ${id}` }],
    });
    // The same body with its keys in another order is the same request.
    const again = await open.call('POST', '/api/v1/workflows', {
      raw: `{"variables":{},"workflow":{"tasks":[{"parameters":{"output":"ten"},"type":"transform","id":"bill"}],"id":"test"},"correlation_id":"invoice-7"}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(again).toMatchObject({ status: 200, body: { execution_id: id, created: false } });
    expect((await h.waitForEnd(id)).tasks[0]?.output).toBe('ten');
  });

  it('refuses control characters, whitespace, lone surrogates and ids over 200 bytes with 400', async () => {
    for (const bad of [
      'a\u0000b',
      'red\u001b[31m',
      'tab\there',
      'line\nbreak',
      'x\u0085y',
      '\ud800lone',
      'x'.repeat(201),
      'é'.repeat(101),
    ]) {
      const answer = await submit(open, { correlation_id: bad, workflow: say('t', 'x') });
      expect([bad, answer.status]).toEqual([bad, 400]);
      expect(answer.body.error.details).toEqual([{ pointer: '/correlation_id', message: CORRELATION_ID_HINT }]);
    }
    expect((await submit(open, { correlation_id: 'é'.repeat(100), workflow: say('t', 'x') })).status).toBe(202);
    expect((await submit(open, { correlation_id: 'y'.repeat(200), workflow: say('t', 'x') })).status).toBe(202);
  });
});

describe('correlation ids on the workflow-requests bus', () => {
  const publish = (message: unknown) => h.connection.publish('workflow-requests', JSON.stringify(message));

  it('a reuse with a different body is answered with a CONFLICT error naming the run', async () => {
    const first = await submit(open, { correlation_id: 'bus-conflict', workflow: say('a', 'one') });
    await publish({ correlation_id: 'bus-conflict', workflow: say('a', 'two') });
    const error = await responses.waitFor((m) => m.correlation_id === 'bus-conflict' && m.type === 'error', 'error');
    expect(error.error).toMatchObject({
      code: 'CONFLICT',
      details: [{ pointer: '/correlation_id', message: `already used for execution ${first.body.execution_id}` }],
    });
  });

  it('refuses a control character in the id', async () => {
    await publish({ correlation_id: 'bus\u0007bell', workflow: say('a', 'one') });
    const error = await responses.waitFor((m) => m.correlation_id === 'bus\u0007bell', 'error');
    expect(error).toMatchObject({
      type: 'error',
      error: { code: 'VALIDATION_FAILED', details: [{ pointer: '/correlation_id', message: CORRELATION_ID_HINT }] },
    });
  });

  it('a requester told accepted for a run an HTTP request created gets its final message', async () => {
    const body = {
      correlation_id: 'http-won',
      workflow: wf([
        { id: 'gate', type: 'approval', parameters: { message: 'go?' } },
        { id: 'done', type: 'transform', depends_on: ['gate'], parameters: { output: 'finished' } },
      ]),
    };
    const http = await submit(open, body);
    expect(http.status).toBe(202);
    const id = http.body.execution_id as string;
    await publish(body);
    const accepted = await responses.waitFor((m) => m.correlation_id === 'http-won', 'accepted');
    expect(accepted).toEqual({ type: 'accepted', execution_id: id, correlation_id: 'http-won', status: 'running' });
    await open.call('POST', `/api/v1/workflows/${id}/tasks/gate/approve`, { body: {} });
    const final = await responses.waitFor(
      (m) => m.correlation_id === 'http-won' && m.type === 'completed',
      'the final message',
    );
    expect(final).toMatchObject({ execution_id: id, status: 'completed', outputs: { done: 'finished' } });
    // One accepted (from one of the two replicas that heard the message), one final message.
    expect(responses.messages.filter((m) => m.correlation_id === 'http-won').map((m) => m.type)).toEqual([
      'accepted',
      'completed',
    ]);
  });

  it('a requester joining a run that already ended (waiting or not) gets accepted and the final message at once', async () => {
    const body = { correlation_id: 'http-ended', workflow: say('quick', 'over') };
    const http = await submit(open, body);
    const id = http.body.execution_id as string;
    await h.waitForEnd(id);
    // `wait` says how to answer, not what to run: the message still matches the HTTP body.
    await publish({ ...body, wait: '2s' });
    const final = await responses.waitFor(
      (m) => m.correlation_id === 'http-ended' && m.type === 'completed',
      'the final message',
    );
    expect(final).toMatchObject({ execution_id: id, outputs: { quick: 'over' } });
    expect(responses.messages.filter((m) => m.correlation_id === 'http-ended').map((m) => m.type)).toEqual([
      'accepted',
      'completed',
    ]);
  });
});

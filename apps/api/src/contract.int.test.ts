import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completion, type ModelServer, startModelServer } from '@orch/generator/testing';
import { buildOpenApi } from './openapi';
import { ROUTES } from './routes';
import {
  CASES,
  CONTRACT_KEY_SCOPES,
  CONTRACT_KEYS,
  type ContractCase,
  DONE_CORRELATION_ID,
  type Fixtures,
  inlineWorkflow,
  type KeyName,
  PROMPTS,
  UNEXERCISED,
} from './test-contract-cases';
import { nested, slowHeaders } from './test-contract-requests';
import { ContractValidator, type LiveAnswer } from './test-contract-validator';
import { type Harness, probe, ROOT, startApi, startHarness, type TestApi } from './testing';

/**
 * Drives every operation of a real API (valid and invalid requests, with and without keys and scopes, too slow,
 * too large, and with Redis stopped) and checks every answer against the document the API serves: an undocumented
 * status, media type, header or field fails, naming what to add where. Cases are in test-contract-cases.ts.
 */

jest.setTimeout(120_000);

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string })
  .version;
type Built = { paths: Record<string, Record<string, { operationId: string }>> };
/** Without examples: the operations to drive; the served document (with the catalog's examples) is checked. */
const BUILT = buildOpenApi(ROUTES, VERSION) as Built;
const OPERATIONS = Object.entries(BUILT.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ path, method, operationId: op.operationId })),
);
type Op = (typeof OPERATIONS)[number];
interface Example {
  parameters?: { name: string; example?: string }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, unknown>;
}

const GENERATED = {
  id: 'graph-summary',
  tasks: [
    { id: 'fetch', type: 'data', parameters: { operation: 'traverse', query: { cypher: 'MATCH (n) RETURN n' } } },
  ],
};

let h: Harness;
let model: ModelServer;
let api: TestApi;
let unconfigured: TestApi;
let validator: ContractValidator;
const fixtures = {} as Fixtures;
const problems: string[] = [];

const keysEnv = Object.entries(CONTRACT_KEYS)
  .map(([name, key]) => `${name}:${key}:${CONTRACT_KEY_SCOPES[name as KeyName]}`)
  .join(',');

beforeAll(async () => {
  h = await startHarness();
  await h.startWorker();
  model = await startModelServer((request) => {
    const prompt = JSON.stringify(request.body);
    if (prompt.includes(PROMPTS.hang)) return 'hang';
    if (prompt.includes(PROMPTS.upstream)) return { status: 400, json: { error: { message: 'bad request' } } };
    if (prompt.includes(PROMPTS.invalid)) return { json: completion(JSON.stringify({ id: 'x' })) };
    return { json: completion(JSON.stringify(GENERATED)) };
  });
  // A copy of the catalog: save_as writes into it.
  const templates = mkdtempSync(join(tmpdir(), 'contract-templates-'));
  cpSync(join(ROOT, 'templates'), templates, { recursive: true });
  const env = {
    ORCHESTRATOR_API_KEYS: keysEnv,
    ORCHESTRATOR_TEMPLATES: templates,
    ORCHESTRATOR_BODY_LIMIT: '64kb',
    ORCHESTRATOR_JSON_MAX_DEPTH: '32',
    ORCHESTRATOR_HEADERS_TIMEOUT: '2s',
    ORCHESTRATOR_REQUEST_TIMEOUT: '10s',
    MAX_CONCURRENT_WORKFLOWS: '3',
    LOG_LEVEL: 'warn',
  };
  api = await startApi(h, { ...env, OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: 'x', OPENAI_TIMEOUT: '3s' });
  unconfigured = await startApi(h, { ...env, ORCHESTRATOR_BACKLOG_HIGH_WATER: '1', ORCHESTRATOR_BACKLOG_HOLD: '0s' });
  validator = new ContractValidator((await send(api, 'GET', '/api/v1/openapi.json')).json);
  await setUpFixtures();
});

afterAll(async () => {
  // When a test stopped before the Redis one: the long tasks would hold the worker's close until they end.
  const long = [fixtures.running, fixtures.stopping, fixtures.approval].filter(Boolean);
  await Promise.all(long.map((id) => h.engine.cancel(id).catch(() => undefined)));
  await Promise.all([api?.service.close(), unconfigured?.service.close()]);
  await model?.close();
  await h?.stop();
});

async function send(
  target: TestApi,
  method: string,
  path: string,
  options: { key?: KeyName | string | null; body?: string; headers?: Record<string, string> } = {},
): Promise<LiveAnswer & { json: never }> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? CONTRACT_KEYS.admin : options.key;
  if (key) headers.authorization = `Bearer ${CONTRACT_KEYS[key as KeyName] ?? key}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${target.url}${path}`, { method: method.toUpperCase(), headers, body: options.body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json: json as never };
}

async function submit(workflow: unknown, correlationId?: string): Promise<string> {
  const body = JSON.stringify({ workflow, correlation_id: correlationId });
  const answer = await send(api, 'POST', '/api/v1/workflows', { body });
  if (answer.status !== 202) throw new Error(`fixture not submitted: ${answer.status} ${answer.text}`);
  return (answer.json as { execution_id: string }).execution_id;
}

const sleeper = (id: string) => ({ id, tasks: [probe('wait', [], { sleep_ms: 300_000 })] });
const started = (id: string, task: string) => h.waitForEvent(id, (e) => e.type === 'task.started' && e.task === task);

async function setUpFixtures(): Promise<void> {
  fixtures.done = await submit(inlineWorkflow('done'), DONE_CORRELATION_ID);
  // Two attempts, each failing with a cause: the record's `history` (with multi-line errors) is checked too; the
  // attempts write log lines, so the logs route answers with some.
  const retried = { retry_policy: { max_retries: 1, backoff_type: 'fixed', initial_delay: '10ms' } };
  fixtures.failed = await submit({
    id: 'failed',
    tasks: [
      probe(
        'boom',
        [],
        { fail_times: 2, cause: 'connect ECONNREFUSED 127.0.0.1:9', log: ['checking the input', 'giving up'] },
        retried,
      ),
    ],
  });
  const [, failedRecord] = await Promise.all([h.waitForEnd(fixtures.done), h.waitForEnd(fixtures.failed)]);
  expect(failedRecord.tasks[0]?.history?.map((a) => a.status)).toEqual(['failed', 'failed']);
  const events = await h.engine.events(fixtures.done);
  fixtures.lastEventId = events.at(-1)?.id as string;
  // Three runs hold the three slots (MAX_CONCURRENT_WORKFLOWS=3), so the fourth waits.
  fixtures.approval = await submit({
    id: 'approvals',
    tasks: [
      { id: 'note', type: 'transform', parameters: { output: 1 } },
      { id: 'sign_off', type: 'approval', depends_on: ['note'], parameters: { message: 'ship it?' } },
      { id: 'veto', type: 'approval', depends_on: ['note'], parameters: { message: 'stop it?' } },
    ],
  });
  fixtures.running = await submit(sleeper('running'));
  fixtures.stopping = await submit(sleeper('stopping'));
  await Promise.all([
    started(fixtures.approval, 'sign_off'),
    started(fixtures.approval, 'veto'),
    started(fixtures.running, 'wait'),
    started(fixtures.stopping, 'wait'),
  ]);
  fixtures.pending = await submit(inlineWorkflow('pending'));
}

function pathOf(op: Op, c: ContractCase): string {
  const params = c.params?.(fixtures) ?? {};
  let path = op.path.replace(/\{([A-Za-z_]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${op.operationId} case '${c.name}' gives no ${name}`);
    return encodeURIComponent(value);
  });
  if (c.query) path += `?${new URLSearchParams(c.query).toString()}`;
  return path;
}

function bodyOf(c: ContractCase): string | undefined {
  const body = c.body?.(fixtures);
  return body === undefined ? undefined : JSON.stringify(body);
}

/** Sends one request and records every way its answer departs from the document or from `expected`. */
async function expectAnswer(op: Op, what: string, expected: number, answer: LiveAnswer): Promise<void> {
  const found = validator.check(op.method, op.path, answer);
  if (answer.status !== expected) {
    found.unshift(
      `${op.operationId} ${what}: answered ${answer.status}, not ${expected}: ${answer.text.slice(0, 300)}`,
    );
  }
  problems.push(...found.map((p) => `${what}: ${p}`));
}

async function runCase(op: Op, c: ContractCase, overrides: { key?: KeyName | string | null } = {}) {
  const headers = { ...c.headers };
  if (headers['last-event-id'] === 'LAST') headers['last-event-id'] = fixtures.lastEventId;
  const target = c.unconfigured ? unconfigured : api;
  return send(target, op.method, pathOf(op, c), { key: overrides.key ?? c.key, body: bodyOf(c), headers });
}

/** The answers every operation of a kind gives, from the document's own description of it. */
async function commonCases(op: Op, first: ContractCase): Promise<void> {
  const spec = validator.operation(op.method, op.path) as unknown as {
    security?: unknown[];
    requestBody?: { required?: boolean; content: Record<string, { example?: unknown }> };
    'x-required-scope'?: string;
  };
  const path = pathOf(op, first);
  const check = (what: string, status: number, answer: LiveAnswer) => expectAnswer(op, what, status, answer);
  if (spec.security?.length !== 0) {
    await check('without a key', 401, await send(api, op.method, path, { key: null, body: bodyOf(first) }));
    await check(
      'with an unknown key',
      401,
      await send(api, op.method, path, { key: 'not-a-key', body: bodyOf(first) }),
    );
    const lacking: KeyName = { read: 'runner', run: 'reader', admin: 'operator' }[
      spec['x-required-scope'] as 'read'
    ] as KeyName;
    await check(
      `with a key lacking '${spec['x-required-scope']}'`,
      403,
      await send(api, op.method, path, { key: lacking, body: bodyOf(first) }),
    );
  }
  if (spec.requestBody) {
    const post = (body: string, headers: Record<string, string> = {}) => send(api, op.method, path, { body, headers });
    await check('with a body that is not JSON', 400, await post('{"a": '));
    await check('with a body nested too deep', 400, await post(`{"a": ${nested(40)}}`));
    await check('with a body that does not inflate', 400, await post('plain', { 'content-encoding': 'gzip' }));
    await check('with a body over the limit', 413, await post(JSON.stringify({ pad: 'x'.repeat(70_000) })));
    await check('with a body sent as text', 415, await post('{}', { 'content-type': 'text/plain' }));
    await check('with an unknown Content-Encoding', 415, await post('{}', { 'content-encoding': 'compress' }));
    if (spec.requestBody.required) await check('without a body', 400, await send(api, op.method, path));
  }
  if (op.path.includes('{')) {
    const bad = op.path.replace(/\{[A-Za-z_]+\}/, '%ED%A0%80').replace(/\{([A-Za-z_]+)\}/g, 'x');
    await check('with a path id that is not UTF-8', 400, await send(api, op.method, bad));
  }
  const big = { 'x-padding': 'x'.repeat(17_000) };
  await check('with headers over 16 KB', 431, await send(api, op.method, path, { headers: big }));
}

describe('the contract: every answer is one the document describes', () => {
  it('serves the document it is built from, and every operation has cases', async () => {
    // The one clients generate from: packages/api-client/openapi.json (api-client-file.test.ts keeps it current).
    const published = JSON.parse(readFileSync(join(ROOT, 'packages/api-client/openapi.json'), 'utf8'));
    expect(validator.doc).toEqual(published);
    const missing = OPERATIONS.filter((op) => !CASES[op.operationId]?.length).map((op) => op.operationId);
    expect(
      missing.map(
        (id) => `operation ${id} has no contract cases: add CASES.${id} in apps/api/src/test-contract-cases.ts`,
      ),
    ).toEqual([]);
    const unknown = Object.keys(CASES).filter((id) => !OPERATIONS.some((op) => op.operationId === id));
    expect(unknown.map((id) => `CASES.${id} names no operation of the document`)).toEqual([]);
  });

  it.each(OPERATIONS.map((op) => [op.operationId, op] as const))('%s', async (_id, op) => {
    const cases = CASES[op.operationId] ?? [];
    for (const c of cases) await expectAnswer(op, `'${c.name}'`, c.status, await runCase(op, c));
    const first = cases[0];
    if (first) await commonCases(op, first);
    const mine = problems.filter((p) => p.includes(op.operationId));
    expect(mine).toEqual([]);
  });

  it('answers the examples of the document as they say: Try it out works as is', async () => {
    const paths = validator.doc.paths as Record<string, Record<string, Example>>;
    let sent = 0;
    // Deletes last: the schedule example is created, read, paused and resumed first.
    const ordered = [...OPERATIONS].sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
    for (const op of ordered) {
      const spec = paths[op.path]?.[op.method] as Example;
      const body = spec.requestBody?.content['application/json']?.example;
      const params = Object.fromEntries((spec.parameters ?? []).map((p) => [p.name, p.example]));
      if (body === undefined && !op.path.includes('{')) continue;
      if (op.path.includes('{') && Object.values(params).some((v) => v === undefined)) continue;
      const path = op.path.replace(/\{([A-Za-z_]+)\}/g, (_m, name: string) => encodeURIComponent(String(params[name])));
      const answer = await send(api, op.method, path, { body: body === undefined ? undefined : JSON.stringify(body) });
      const success = Object.keys(spec.responses).find(
        (code) => code.startsWith('2') && Number(code) === answer.status,
      );
      await expectAnswer(op, 'its example', success ? answer.status : 200, answer);
      sent += 1;
    }
    expect(problems.filter((p) => p.startsWith('its example'))).toEqual([]);
    expect(sent).toBeGreaterThan(0);
  });

  it('answers 408 on every operation when the headers do not arrive in time', async () => {
    const answers = await Promise.all(
      OPERATIONS.map(
        async (op) =>
          [
            op,
            await slowHeaders(api.url, op.method.toUpperCase(), pathOf(op, CASES[op.operationId]?.[0] as ContractCase)),
          ] as const,
      ),
    );
    for (const [op, answer] of answers) await expectAnswer(op, 'with headers too slow', 408, answer);
    expect(problems.filter((p) => p.startsWith('with headers too slow'))).toEqual([]);
  });

  it('answers 503 with Retry-After, or as usual where no Redis is needed, once Redis stops', async () => {
    // Ended first: Redis comes back empty, and the long tasks would hold the worker's close until they end.
    await Promise.all([h.engine.cancel(fixtures.running), h.engine.cancel(fixtures.approval)]);
    await Promise.all([
      h.waitForEnd(fixtures.running),
      h.waitForEnd(fixtures.approval),
      h.waitForEnd(fixtures.stopping),
    ]);
    await h.server.stop({ keepDir: true });
    for (const op of OPERATIONS) {
      const first = CASES[op.operationId]?.[0] as ContractCase;
      const answer = await runCase(op, first);
      await expectAnswer(op, 'with Redis stopped', first.redisDown ?? 503, answer);
      if (answer.status === 503 && !answer.headers.get('retry-after'))
        problems.push(`${op.operationId}: a 503 without Retry-After`);
    }
    const ready = new Promise((resolve) => api.service.deps.redis.once('ready', resolve));
    await h.server.restart();
    await ready;
    expect(problems.filter((p) => p.startsWith('with Redis stopped') || p.includes('Retry-After'))).toEqual([]);
  });

  it('exercises every documented answer', () => {
    const documented = validator.documentedAnswers();
    const missed = documented.filter((a) => !validator.covered.has(a) && !(a in UNEXERCISED));
    expect(
      missed.map((a) => `${a} is documented but no case answers it: add a case, or list it in UNEXERCISED`),
    ).toEqual([]);
    process.stdout.write(
      `contract: ${OPERATIONS.length} operations, ${validator.covered.size} of ${documented.length} documented (operation, status) answers exercised\n`,
    );
  });
});

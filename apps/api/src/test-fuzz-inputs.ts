import fc from 'fast-check';
import { ROUTES } from './routes';

/**
 * Generated hostile inputs for the fuzz test: HTTP requests (through fetch, and as raw bytes on a socket) and bus
 * messages. Workflows and service requests are generated from the real shapes with wrong types, reserved names,
 * deep nesting and bad expressions mixed in, so that most inputs get past the envelope and reach the validators,
 * the engine and the services. An `exec` command is only ever `echo`: the exec-agent runs local processes.
 */

export interface HttpInput {
  kind: 'http';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Compress `body` as its content-encoding says before sending (else the encoding is a lie). */
  compress: boolean;
}

export interface RawInput {
  kind: 'raw';
  text: string;
}

export interface BusInput {
  kind: 'bus';
  channel: string;
  message: string;
}

export type FuzzInput = HttpInput | RawInput | BusInput;

export const SERVICE_REQUEST_CHANNELS = ['data-requests', 'ai-requests', 'exec-requests'] as const;
export const FUZZ_REPLY_CHANNEL = 'fuzz-replies';

const json = fc.jsonValue({ maxDepth: 4 });
const shortText = fc.string({ maxLength: 30 });
const anyText = fc.string({ unit: 'binary', maxLength: 60 });
const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

/** Nested arrays and objects, up to far past every limit. */
const deepText = fc
  .tuple(fc.integer({ min: 1, max: 6000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => open.repeat(depth) + (open === '[' ? ']' : '1}').repeat(depth));

const names = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'fetch', '__proto__', 'constructor', 'prototype', 'toString', '1a', 'a-b', '', 'item'),
  shortText,
);

const expression = fc.oneof(
  fc.constantFrom(
    '${a.output}',
    '${a.output.rows[0]}',
    '${1 +}',
    '${constructor}',
    '${a.output.__proto__}',
    '${item}',
    '${score > 0.5}',
    `\${${'a.'.repeat(300)}b}`,
    `\${${'('.repeat(400)}1${')'.repeat(400)}}`,
    '${len(a.output) * 1e308}',
    '${"x" * 100000000}',
  ),
  shortText.map((s) => `\${${s}}`),
);

const duration = fc.oneof(fc.constantFrom('10ms', '1s', '50ms', 0, -1, 'forever', '1h30m', 1e308), json);
const templateReference = fc.oneof(
  fc.constantFrom(
    'data-analysis-basic',
    'ai-content-pipeline',
    '../../etc/passwd',
    '/etc/passwd',
    'x@1.0',
    'constructor',
  ),
  shortText,
);
const fileName = fc.oneof(
  fc.constantFrom('in.txt', '../x', '/etc/passwd', 'a/../../b', 'dir/', '.', 'a\u0000b'),
  shortText,
);
const echo = fc.tuple(fc.constant('echo'), shortText);
const execParameters = fc.record(
  {
    image: fc.oneof(fc.constant('alpine'), shortText),
    command: echo,
    files: fc.array(fc.record({ name: fileName, content: shortText }), { maxLength: 3 }),
    env: fc.dictionary(names, fc.oneof(shortText, json), { maxKeys: 3 }),
    timeout: duration,
  },
  { requiredKeys: ['command'] },
);
const leafTask = fc.record(
  { id: names, type: fc.constantFrom('transform', 'data', 'ai', 'delay', 'parallel'), parameters: json },
  { requiredKeys: [] },
);

const PARAMETERS: Record<string, fc.Arbitrary<unknown>> = {
  transform: fc.record({ output: fc.oneof(json, expression) }, { requiredKeys: [] }),
  delay: fc.record({ duration }, { requiredKeys: [] }),
  data: fc.record(
    {
      operation: fc.constantFrom('traverse', 'search', 'enrich', 'drop'),
      query: json,
      text: fc.oneof(shortText, expression),
      top_k: fc.oneof(fc.integer({ min: -5, max: 20_000 }), json),
      collection: shortText,
    },
    { requiredKeys: [] },
  ),
  ai: fc.record(
    {
      prompt: fc.oneof(shortText, expression, json),
      model: shortText,
      response_format: fc.constantFrom('text', 'json', 'xml'),
      max_tokens: fc.oneof(fc.integer(), json),
      temprature: json,
    },
    { requiredKeys: [] },
  ),
  exec: execParameters,
  parallel: fc.record(
    {
      for_each: fc.oneof(fc.array(json, { maxLength: 5 }), expression, json),
      task: leafTask,
      tasks: fc.oneof(fc.array(leafTask, { maxLength: 3 }), json),
      max_items: fc.oneof(fc.integer({ min: -1, max: 20_000 }), json),
    },
    { requiredKeys: [] },
  ),
  condition: json,
  workflow: fc.record(
    {
      template: templateReference,
      workflow: json,
      variables: fc.dictionary(names, json, { maxKeys: 3 }),
    },
    { requiredKeys: [] },
  ),
  approval: fc.record({ message: shortText, approvers: json }, { requiredKeys: [] }),
  nope: json,
};

const task = fc.constantFrom(...Object.keys(PARAMETERS)).chain((type) =>
  fc.record(
    {
      id: names,
      type: fc.constant(type),
      depends_on: fc.oneof(fc.array(names, { maxLength: 3 }), names, json),
      parameters: PARAMETERS[type] as fc.Arbitrary<unknown>,
      timeout: duration,
      condition: expression,
      on_success: fc.oneof(fc.array(names, { maxLength: 2 }), names),
      retry_policy: fc.oneof(
        fc.record({ max_retries: fc.integer({ min: -1, max: 3 }), initial_delay: duration }, { requiredKeys: [] }),
        json,
      ),
      trigger_rule: fc.constantFrom('all_success', 'all_done', 'one_success', 'sometimes'),
      continue_on_failure: fc.oneof(fc.boolean(), json),
    },
    { requiredKeys: ['id', 'type'] },
  ),
);

const workflow = fc.record(
  {
    id: fc.oneof(names, json),
    tasks: fc.oneof({ weight: 9, arbitrary: fc.array(task, { maxLength: 5 }) }, json),
    variables: fc.oneof(fc.dictionary(names, json, { maxKeys: 3 }), json),
    timeout: duration,
    fail_fast: fc.oneof(fc.boolean(), json),
    extra: json,
  },
  { requiredKeys: ['id', 'tasks'] },
);

/** A valid task of a chain `t0, t1, ...`, with generated content where a value is free: these runs execute. */
const RUNNABLE: Record<string, fc.Arbitrary<unknown>> = {
  transform: fc.record({ output: fc.oneof(json, fc.constant('${t0.output}')) }),
  delay: fc.record({ duration: fc.constantFrom('10ms', '50ms') }),
  data: fc.record({ operation: fc.constant('search'), text: shortText, top_k: fc.integer({ min: 1, max: 5 }) }),
  ai: fc.record({
    prompt: fc.string({ minLength: 1, maxLength: 30 }),
    response_format: fc.constantFrom('text', 'json'),
  }),
  exec: fc.record({ image: fc.constant('alpine'), command: echo }),
  parallel: fc.record({
    for_each: fc.array(json, { maxLength: 4 }),
    task: fc.record({ type: fc.constant('transform'), parameters: fc.constant({ output: '${item}' }) }),
  }),
};
const runnable = fc
  .array(fc.constantFrom(...Object.keys(RUNNABLE)), { minLength: 1, maxLength: 4 })
  .chain((types) =>
    fc.tuple(
      ...types.map((type, i) =>
        fc.record({
          id: fc.constant(`t${i}`),
          type: fc.constant(type),
          // the first task's output is read only by tasks that depend on it
          depends_on: i === 0 ? fc.constant([]) : fc.constant(['t0']),
          parameters: RUNNABLE[type] as fc.Arbitrary<unknown>,
        }),
      ),
    ),
  )
  .map((tasks) => ({ id: 'runnable', tasks }));

/** An envelope as submit expects it, around a workflow that is as often runnable as hostile. */
const wellFormed = fc.record(
  {
    correlation_id: fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom('a', 'b', '1', '-', '_') }),
    workflow: fc.oneof(runnable, workflow),
    variables: fc.dictionary(names, json, { maxKeys: 2 }),
  },
  { requiredKeys: ['correlation_id', 'workflow'] },
);

/** A submission (HTTP body or bus message): envelope fields of every route, each there or not. */
const anyEnvelope = fc.record(
  {
    correlation_id: fc.oneof(shortText, json),
    workflow: fc.oneof(workflow, runnable),
    workflow_template: templateReference,
    template: json,
    variables: fc.oneof(fc.dictionary(names, json, { maxKeys: 4 }), json),
    cron: fc.constantFrom('* * * * *', '*/5 * * * * *', 'every day', ''),
    id: names,
    prompt: shortText,
    payload: json,
  },
  { requiredKeys: [] },
);

const submission = fc.oneof(wellFormed, anyEnvelope);

const bodyText = fc.oneof(
  { weight: 6, arbitrary: submission.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: json.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: anyText },
  { weight: 1, arbitrary: deepText.map((d) => `{"workflow": ${d}}`) },
);
const body = fc.oneof({ weight: 9, arbitrary: bodyText }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) });

const percentBytes = fc
  .uint8Array({ minLength: 1, maxLength: 6 })
  .map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''));

/** A path id: real ones (given), reserved names, undecodable escapes, odd text, very long ones. */
function pathId(known: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        '%ED%A0%80',
        '%E2%82',
        '%FF',
        '..',
        '%2e%2e',
        '%00',
        'x'.repeat(5000),
      ),
    },
    { weight: 1, arbitrary: percentBytes },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.uuid() },
  );
}

function path(known: string[]): fc.Arbitrary<string> {
  const route = fc.constantFrom(...ROUTES.map((r) => r.path), '/admin/queues', '/docs', '/ui/', '/api/v1/nowhere');
  const filled = fc
    .tuple(route, pathId(known), pathId(['approve_me', 'a', 'wait']))
    .map(([p, id, t]) => p.replace(':id', id).replace(':task', t));
  const query = fc.oneof(
    fc.constant(''),
    fc
      .tuple(
        fc.constantFrom('limit', 'status', 'cursor', 'template', 'x', '__proto__', 'limit[]'),
        fc.oneof(printable(12).map(encodeURIComponent), percentBytes, fc.constantFrom('0', '201', '-1', 'running')),
      )
      .map(([k, v]) => `?${k}=${v}`),
  );
  return fc.oneof(
    { weight: 9, arbitrary: fc.tuple(filled, query).map(([p, q]) => p + q) },
    { weight: 1, arbitrary: fc.webPath() },
  );
}

function httpInput(known: string[]): fc.Arbitrary<HttpInput> {
  return fc.record({
    kind: fc.constant('http' as const),
    method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'),
    path: path(known),
    headers: fc.record(
      {
        'content-type': fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'application/json; charset=latin-7',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/merge-patch+json',
        ),
        'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'gzip, br', 'x-unknown'),
        'last-event-id': fc.oneof(fc.stringMatching(/^\d{1,22}-\d{1,22}$/), printable(30)),
        authorization: printable(40).map((t) => `Bearer ${t}`),
        accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html'),
        'x-fuzz': printable(200),
      },
      { requiredKeys: [] },
    ),
    body: fc.option(body, { nil: undefined }),
    compress: fc.boolean(),
  });
}

/** A request as bytes: request lines, header names and values, lengths and endings all generated. */
function rawInput(known: string[]): fc.Arbitrary<RawInput> {
  const headerLine = fc.oneof(
    fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), printable(40)).map(([n, v]) => `${n}: ${v}`),
    fc.constantFrom(
      'Transfer-Encoding: chunked',
      'Content-Length: abc',
      'Content-Length: -1',
      'Expect: 100-continue',
      'Host:',
    ),
    anyText,
  );
  return fc
    .record({
      method: fc.oneof(
        fc.constantFrom('GET', 'POST', 'DELETE', 'BREW', 'G E T', ''),
        fc.stringMatching(/^[A-Z]{1,8}$/),
      ),
      target: fc.oneof(
        { weight: 4, arbitrary: path(known) },
        { weight: 1, arbitrary: anyText },
        { weight: 1, arbitrary: fc.constantFrom('*', 'http://x/health', '') },
      ),
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', ''),
      headers: fc.array(headerLine, { maxLength: 6 }),
      body: bodyText,
      length: fc.oneof(
        { weight: 12, arbitrary: fc.constant('exact' as const) },
        { weight: 1, arbitrary: fc.constant('short' as const) },
        { weight: 2, arbitrary: fc.constant('none' as const) },
      ),
    })
    .map(({ method, target, version, headers, body: text, length }) => {
      const bytes = Buffer.byteLength(text);
      const lengthLine =
        length === 'exact' ? [`Content-Length: ${bytes}`] : length === 'short' ? [`Content-Length: ${bytes + 5}`] : [];
      const head = [`${method} ${target} ${version}`, 'Host: fuzz', ...headers, ...lengthLine, 'Connection: close'];
      return { kind: 'raw' as const, text: `${head.join('\r\n')}\r\n\r\n${length === 'none' ? '' : text}` };
    });
}

/** A service request envelope, for one channel; `deadline` is an offset from now, applied when sent. */
function serviceMessage(channel: (typeof SERVICE_REQUEST_CHANNELS)[number]): fc.Arbitrary<string> {
  const parameters: fc.Arbitrary<unknown> =
    channel === 'exec-requests'
      ? execParameters
      : channel === 'ai-requests'
        ? (PARAMETERS.ai as fc.Arbitrary<unknown>)
        : fc.oneof(PARAMETERS.data as fc.Arbitrary<unknown>, json);
  const envelope = fc.record(
    {
      type: fc.constantFrom('request', 'request', 'cancel', 'response', 'x'),
      request_id: fc.oneof(fc.uuid(), shortText, json),
      execution_id: fc.oneof(fc.uuid(), json),
      task_id: names,
      attempt: fc.oneof(fc.integer({ min: -1, max: 5 }), json),
      idempotency_key: shortText,
      operation: fc.oneof(fc.constantFrom('run', 'complete', 'traverse', 'search', 'enrich', 'query'), shortText),
      parameters,
      reply_channel: fc.oneof(
        { weight: 5, arbitrary: fc.constant(FUZZ_REPLY_CHANNEL) },
        { weight: 1, arbitrary: fc.oneof(shortText, json) },
      ),
      deadline: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: -5_000, max: 5_000 }) },
        { weight: 1, arbitrary: json },
      ),
    },
    { requiredKeys: ['type'] },
  );
  return fc.oneof(
    { weight: 6, arbitrary: envelope.map((e) => JSON.stringify(e)) },
    { weight: 1, arbitrary: anyText },
    { weight: 1, arbitrary: deepText },
    // exec requests carry only generated-safe parameters: no free-form JSON that could name a command
    ...(channel === 'exec-requests' ? [] : [{ weight: 1, arbitrary: json.map((v) => JSON.stringify(v)) }]),
  );
}

function busInput(): fc.Arbitrary<BusInput> {
  const workflowRequest = fc.oneof(
    { weight: 6, arbitrary: submission.map((s) => JSON.stringify(s)) },
    { weight: 2, arbitrary: bodyText },
  );
  return fc.oneof(
    {
      weight: 2,
      arbitrary: workflowRequest.map((message) => ({ kind: 'bus' as const, channel: 'workflow-requests', message })),
    },
    ...SERVICE_REQUEST_CHANNELS.map((channel) =>
      serviceMessage(channel).map((message) => ({ kind: 'bus' as const, channel, message })),
    ),
  );
}

/** A JSON body POSTed where workflows are taken: most reach the validators, many run. */
const submitInput: fc.Arbitrary<HttpInput> = fc.record({
  kind: fc.constant('http' as const),
  method: fc.constant('POST'),
  path: fc.constantFrom('/api/v1/workflows', '/api/v1/workflows', '/api/v1/validate', '/api/v1/schedules'),
  headers: fc.constant({ 'content-type': 'application/json' }),
  body: submission.map((s) => JSON.stringify(s)),
  compress: fc.constant(false),
});

/** Every kind of input, weighted toward HTTP requests; `known` are real execution ids to aim at. */
export function fuzzInput(known: string[]): fc.Arbitrary<FuzzInput> {
  return fc.oneof(
    { weight: 4, arbitrary: httpInput(known) },
    { weight: 2, arbitrary: submitInput },
    { weight: 2, arbitrary: rawInput(known) },
    { weight: 3, arbitrary: busInput() },
  );
}

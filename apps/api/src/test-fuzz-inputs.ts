import fc from 'fast-check';
import { ROUTES } from './routes';
import {
  anyText,
  bodyText,
  deepText,
  execParameters,
  json,
  names,
  PARAMETERS,
  printable,
  shortText,
  submission,
} from './test-fuzz-documents';

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

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { HttpTaskSettings } from '@orch/config';
import { parseDuration, SECRET_MARKER, type TaskParameters } from '@orch/core';
import type { TaskContext, TaskHandler } from '@orch/engine';
import { OrchestratorError, PermanentTaskError, RetryableTaskError } from '@orch/errors';
import { carrierOf } from '@orch/tracing';
import { OutboundPolicy } from './outbound-policy';

type HttpParameters = TaskParameters<'http'>;

export interface HttpTaskOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
/** A bigger answer fails the task: outputs live in Redis with the run. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Headers that carry credentials: dropped when a redirect leaves the origin. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * `http` tasks: one request (following up to 5 redirects, each checked again), every address checked by the
 * outbound policy on the address actually connected to. 5xx, 429 (after its Retry-After) and connection errors are
 * retryable; any other status outside `expect_status` fails for good.
 */
export function createHttpTask(
  settings: HttpTaskSettings,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TaskHandler<HttpParameters> {
  const policy = new OutboundPolicy(settings);
  const secrets = new Set(settings.secretEnv);
  return async (parameters, context) => {
    const headers = withSecrets(parameters.headers ?? {}, secrets, env);
    const { method = 'GET', query, body } = parameters;
    for (const [name, value] of Object.entries({ url: parameters.url, body: JSON.stringify(body ?? null) })) {
      if (value.search(SECRET_MARKER) !== -1)
        throw new PermanentTaskError(`http task: \${env.*} is read in headers only, not in ${name}`);
    }
    const timeoutMs = parameters.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseTimeout(parameters.timeout);
    let url = withQuery(parameters.url, query);
    let current = { method: method as string, body: encodeBody(body, headers) };
    for (let hop = 0; ; hop++) {
      const answer = await send(policy, url, current.method, headers, current.body, timeoutMs, context);
      const location = answer.headers.location;
      if (answer.status >= 300 && answer.status < 400 && answer.status !== 304 && location) {
        if (hop >= MAX_REDIRECTS) throw new PermanentTaskError(`http task: more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:')
          throw new PermanentTaskError(`http task: redirect to ${next.protocol} refused`);
        if (next.origin !== new URL(url).origin)
          for (const name of Object.keys(headers)) if (CREDENTIAL_HEADERS.has(name.toLowerCase())) delete headers[name];
        // 303 (and 301/302 after a POST, as browsers do) turn into a GET without a body.
        if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && current.method === 'POST'))
          current = { method: 'GET', body: undefined };
        context.logger.debug('http task redirected', { status: answer.status, to: next.origin });
        url = next.toString();
        continue;
      }
      return judge(answer, parameters);
    }
  };
}

/** `${env.NAME}` markers in header values replaced by the variables' values, for names HTTP_TASK_SECRET_ENV lists. */
function withSecrets(
  headers: Record<string, string>,
  allowed: ReadonlySet<string>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = value.replace(SECRET_MARKER, (_, variable: string) => {
      if (!allowed.has(variable))
        throw new PermanentTaskError(
          `http task: header ${name} reads env.${variable}, which HTTP_TASK_SECRET_ENV does not list`,
        );
      const secret = env[variable];
      if (secret === undefined) throw new PermanentTaskError(`http task: env.${variable} is not set on this worker`);
      return secret;
    });
  }
  return out;
}

function parseTimeout(timeout: string | number): number {
  try {
    return parseDuration(timeout, 'timeout');
  } catch (error) {
    throw new PermanentTaskError((error as Error).message, { cause: error, code: 'BAD_REQUEST' });
  }
}

function withQuery(url: string, query: Record<string, string | number | boolean> | undefined): string {
  if (!query) return url;
  const parsed = new URL(url);
  for (const [k, v] of Object.entries(query)) parsed.searchParams.append(k, String(v));
  return parsed.toString();
}

/** An object or array as JSON, a string as text; the content type unless the task set one. */
function encodeBody(body: unknown, headers: Record<string, string>): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  const typed = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  const json = typeof body !== 'string';
  if (!typed) headers['content-type'] = json ? 'application/json' : 'text/plain; charset=utf-8';
  return Buffer.from(json ? JSON.stringify(body) : body);
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request to `url`, connected only to an address the policy lets through. */
async function send(
  policy: OutboundPolicy,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  timeoutMs: number,
  context: TaskContext,
): Promise<RawAnswer> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  policy.checkHost(host);
  if (isIP(host) !== 0) policy.checkAddress(host, host); // a literal address is never looked up
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)].filter(Boolean));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const sent = withTraceContext(headers);
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = request(
      target,
      { method, headers: sent, signal, lookup: policy.lookup as never, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new PermanentTaskError(`http task: the response is over ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', (error) => reject(connectionError(error, url, signal, timeoutMs)));
      },
    );
    req.on('error', (error) => reject(connectionError(error, url, signal, timeoutMs)));
    req.end(body);
  });
}

/** Refusals and oversized answers stay permanent; timeouts and network failures are retryable. */
function connectionError(error: Error, url: string, signal: AbortSignal, timeoutMs: number): Error {
  if (error instanceof PermanentTaskError) return error;
  if (signal.aborted && (signal.reason as Error)?.name === 'TimeoutError')
    return new OrchestratorError('TIMEOUT', `http task: ${new URL(url).origin} did not answer within ${timeoutMs} ms`);
  return new OrchestratorError('UPSTREAM_ERROR', `http task: ${new URL(url).origin}: ${error.message}`, {
    cause: error,
  });
}

/** The output, or the failure the status means. */
function judge(answer: RawAnswer, parameters: HttpParameters): HttpTaskOutput {
  const { status } = answer;
  const expected = parameters.expect_status;
  const ok = expected === undefined ? status >= 200 && status < 300 : [expected].flat().includes(status);
  const text = answer.body.toString('utf8');
  if (!ok) {
    const detail = `http task: ${parameters.method ?? 'GET'} ${new URL(parameters.url).origin} answered ${status}${
      text ? `: ${text.slice(0, 300)}` : ''
    }`;
    if (status === 429 || status >= 500)
      throw new RetryableTaskError(detail, { retryAfterMs: retryAfterMs(answer.headers['retry-after']) });
    throw new PermanentTaskError(detail, { code: 'UPSTREAM_ERROR' });
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined) headers[k] = [v].flat().join(', ');
  const json =
    parameters.response === 'json' ||
    (parameters.response === undefined && /[/+]json\b/i.test(headers['content-type'] ?? ''));
  return { status, headers, body: json ? parseJson(text) : text };
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PermanentTaskError(`http task: the response is not JSON: ${text.slice(0, 200)}`, { cause: error });
  }
}

/** Retry-After as seconds or an HTTP date; capped at an hour so one header cannot park a task for days. */
export function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const text = [value].flat()[0]?.trim();
  if (!text) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 3_600_000) : undefined;
}

/** The attempt's span as W3C trace context, so the endpoint's own spans join the run's trace; a caller's own wins. */
function withTraceContext(headers: Record<string, string>): Record<string, string> {
  const carrier = carrierOf();
  if (!carrier || Object.keys(headers).some((h) => h.toLowerCase() === 'traceparent')) return headers;
  return { ...headers, ...carrier };
}

// @ts-check
/**
 * Calls to the REST API with the key kept in sessionStorage, and a Server-Sent Events reader over fetch: EventSource
 * cannot send an Authorization header, and the API takes the key only there.
 */

const KEY = 'orchestrator.apiKey';

export function getKey() {
  return sessionStorage.getItem(KEY) ?? '';
}

/** @param {string} key an empty key forgets it */
export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

/** An error answer: `{error: {code, message, details}}`, or what stood in for one. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {{pointer: string, message: string}[]} [details]
   */
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** `CODE: message` and a line per detail with its JSON pointer. */
  describe() {
    return [`${this.code}: ${this.message}`, ...this.details.map((d) => `${d.pointer || '/'}: ${d.message}`)].join(
      '\n',
    );
  }
}

/** @param {Record<string, string>} [extra] */
export function headers(extra = {}) {
  /** @type {Record<string, string>} */
  const all = { accept: 'application/json', ...extra };
  const key = getKey();
  if (key) all.authorization = `Bearer ${key}`;
  return all;
}

/**
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
export async function errorOf(response) {
  const text = await response.text().catch(() => '');
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const e = body?.error;
  if (e && typeof e.code === 'string') return new ApiError(response.status, e.code, e.message, e.details ?? []);
  return new ApiError(response.status, `HTTP_${response.status}`, text.slice(0, 200) || response.statusText);
}

/**
 * One JSON request; an answer of 400 or more throws an ApiError.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status >= 400) throw await errorOf(response);
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

/** @param {string} id */
export const runPath = (id) => `/api/v1/workflows/${encodeURIComponent(id)}`;

/**
 * @typedef {{id: string, type: string, task?: string, attempt?: number, at: string, error?: string, worker?: string}} RunEvent
 */

/**
 * Follows a run's event stream until its final event, the abort signal, or too many failed reconnects. Each event
 * is given once, in order: a reconnect sends Last-Event-ID, and the server resumes after it.
 * @param {string} id
 * @param {{onEvent: (event: RunEvent) => void, onState?: (state: string) => void, signal: AbortSignal}} options
 */
export async function followEvents(id, options) {
  let lastId = '';
  let retryMs = 3000;
  let failures = 0;
  while (!options.signal.aborted) {
    let progressed = false;
    try {
      /** @type {Record<string, string>} */
      const extra = { accept: 'text/event-stream' };
      if (lastId) extra['last-event-id'] = lastId;
      const response = await fetch(`${runPath(id)}/events`, { headers: headers(extra), signal: options.signal });
      if (response.status === 204) return; // nothing after Last-Event-ID: the run is over
      if (response.status >= 400 && response.status < 500) throw await errorOf(response);
      if (response.ok && response.body) {
        options.onState?.('live');
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            const fields = parseBlock(block);
            if (fields.retry) retryMs = Number(fields.retry);
            if (fields.id) lastId = fields.id;
            if (fields.data === undefined) continue;
            progressed = true;
            /** @type {RunEvent} */
            const event = JSON.parse(fields.data);
            options.onEvent(event);
            if (/^workflow\.(completed|failed|cancelled|timed_out)$/.test(event.type)) return;
          }
        }
      }
    } catch (error) {
      if (options.signal.aborted) return;
      if (error instanceof ApiError) throw error;
    }
    failures = progressed ? 0 : failures + 1;
    if (failures > 5) throw new ApiError(0, 'STREAM_LOST', 'lost the event stream; reload the page');
    options.onState?.('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

/**
 * The fields of one SSE block; `data` lines joined with newlines, comments dropped.
 * @param {string} block
 * @returns {{id?: string, event?: string, data?: string, retry?: string}}
 */
export function parseBlock(block) {
  /** @type {Record<string, string>} */
  const fields = {};
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    fields[name] = name === 'data' && fields.data !== undefined ? `${fields.data}\n${value}` : value;
  }
  return fields;
}

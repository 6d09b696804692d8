import { createApiClient, type ApiClient as TypedApiClient } from '@orch/api-client';
import type { ErrorDetail } from '@orch/errors';

/** Where the CLI finds the API when ORCHESTRATOR_URL is not set: what `orchestrator up` serves. */
export const DEFAULT_API_URL = 'http://localhost:8080';

/** An error answer of the API (`{error: {code, message, details}}`), or a failure to reach it at all. */
export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when no answer came. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** `CODE: message`, then one indented line per detail with its JSON pointer, as the CLI prints it. */
  describe(): string[] {
    return [`${this.code}: ${this.message}`, ...this.details.map((d) => `  ${d.pointer || '/'}: ${d.message}`)];
  }
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** What the typed client's calls resolve to (openapi-fetch's `{data, error, response}`). */
interface Answer<D, E> {
  data?: D;
  error?: E;
  response: Response;
}

/**
 * The CLI's connection to the REST API: `api` is @orch/api-client's typed client (paths, parameters and answers as
 * the OpenAPI document says), `call` turns its answers into bodies or ApiErrors, and `fetch` serves the event
 * stream. Network failures become an ApiError that says which URL could not be reached.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly api: TypedApiClient;

  constructor(
    baseUrl: string,
    private readonly apiKey?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.api = createApiClient({ baseUrl: this.baseUrl, apiKey, fetch: (request) => this.send(request) });
  }

  /** ORCHESTRATOR_URL (default http://localhost:8080) and ORCHESTRATOR_API_KEY. */
  static fromEnv(env: Readonly<Record<string, string | undefined>>): ApiClient {
    return new ApiClient(env.ORCHESTRATOR_URL || DEFAULT_API_URL, env.ORCHESTRATOR_API_KEY || undefined);
  }

  /** Headers every request carries; the SSE reader adds its own. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    return headers;
  }

  /** The body of a typed call's answer; any status of 400 or more becomes an ApiError with the API's code and details. */
  async call<D, E>(pending: Promise<Answer<D, E>>): Promise<ApiResponse<D>> {
    const { data, error, response } = await pending;
    if (response.status >= 400) {
      const text = typeof error === 'string' ? error : JSON.stringify(error ?? '');
      throw toApiError(response.status, typeof error === 'string' ? parseJson(error) : error, text);
    }
    return { status: response.status, body: data as D, headers: response.headers };
  }

  /** fetch with network failures turned into an ApiError that says which URL could not be reached and why. */
  fetch(path: string, init: RequestInit): Promise<Response> {
    return this.send(new Request(`${this.baseUrl}${path}`, init));
  }

  private async send(request: Request): Promise<Response> {
    try {
      return await fetch(request);
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new ApiError(0, 'UNREACHABLE', `cannot reach the API at ${this.baseUrl} (${why}); set ORCHESTRATOR_URL`);
    }
  }
}

/** The JSON in `text`, or undefined when it is empty or not JSON. */
export function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API's error body when there is one; otherwise (a proxy's HTML page, say) the status and the text's start. */
export function toApiError(status: number, parsed: unknown, text: string): ApiError {
  const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    const details = Array.isArray(error.details) ? (error.details as ErrorDetail[]) : [];
    return new ApiError(status, error.code, error.message, details);
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return new ApiError(status, `HTTP_${status}`, snippet || 'the API answered with an empty error body');
}

/** `/api/v1/workflows/<id>` with the id escaped, and any suffix: for the event stream, which `api` does not read. */
export function runPath(id: string, suffix = ''): string {
  return `/api/v1/workflows/${encodeURIComponent(id)}${suffix}`;
}

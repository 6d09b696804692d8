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

/** Parsed JSON answers: each command reads the few fields it prints, so a static type per route adds little. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Json = any;

/** A small fetch wrapper for the REST API: base URL, Bearer key, JSON bodies, and error answers as ApiError. */
export class ApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly apiKey?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
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

  get<T = Json>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path);
  }

  post<T = Json>(path: string, body?: unknown): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, body);
  }

  /** Sends one request; any status of 400 or more becomes an ApiError carrying the API's code and details. */
  async request<T = Json>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers = this.headers(body === undefined ? {} : { 'content-type': 'application/json' });
    const response = await this.fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = parseJson(text);
    if (response.status >= 400) throw toApiError(response.status, parsed, text);
    return { status: response.status, body: (parsed === undefined ? text : parsed) as T, headers: response.headers };
  }

  /** fetch with network failures turned into an ApiError that says which URL could not be reached and why. */
  async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, init);
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

/** `/api/v1/workflows/<id>` with the id escaped, and any suffix. */
export function runPath(id: string, suffix = ''): string {
  return `/api/v1/workflows/${encodeURIComponent(id)}${suffix}`;
}

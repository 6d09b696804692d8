import type { ExecutionLinks } from '@orch/run-model';
import type { ApiDeps } from '../api-deps';
import type { Caller } from '../middleware/auth';

/** What a handler sees of a request; no Express types, so handlers run in tests and other transports as they are. */
export interface HandlerInput {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** This request's id (X-Request-Id); a run it creates keeps it. */
  requestId?: string;
  /** Aborted when the client goes away before the answer. */
  signal?: AbortSignal;
  /** The key that called: its name is recorded on what it submits and decides. */
  caller: Caller;
}

export interface HandlerResult {
  status: number;
  /** JSON-serialised, unless it is a string (sent as is with the `content-type` header). */
  body: unknown;
  headers?: Record<string, string>;
}

/** The dependencies a handler reads, plus the OpenAPI document (built from the route table by the app). */
export interface HandlerDeps extends ApiDeps {
  openapi: object;
}

export type Handler = (input: HandlerInput, deps: HandlerDeps) => Promise<HandlerResult>;

/** Relative links of one execution, returned wherever a run is created or named. */
export function executionLinks(id: string): ExecutionLinks {
  const self = `/api/v1/workflows/${encodeURIComponent(id)}`;
  return { self, status: `${self}/status`, events: `${self}/events`, cancel: `${self}/cancel` };
}

import type { ApiScope } from '@orch/config';
import type { Handler } from './handlers/handler';
import type { RouteScope } from './middleware/auth';
import type { ResponseSchema } from './openapi-schemas';

/** Response headers the document describes (components.headers of openapi.ts). */
export type ResponseHeader = 'Location' | 'Retry-After' | 'WWW-Authenticate' | 'X-Request-Id';

export interface RouteResponse {
  description: string;
  /** A component schema of the OpenAPI document (openapi-schemas.ts); none for an answer without a body. */
  schema?: ResponseSchema;
  /** Defaults to application/json with `schema`; text types are a string. */
  contentType?: string;
  headers?: readonly ResponseHeader[];
  /**
   * The same status may also answer as Server-Sent Events (the client asked to follow): the component schema of each
   * message's `data`.
   */
  stream?: ResponseSchema;
}

/** The groups of operations in the document, each with its description. */
export const TAGS = {
  workflows: 'Runs: submit, list, read, follow, cancel, retry, pause, resume, approve',
  templates: 'The template catalog, validation and generation',
  schedules: 'Cron schedules that start workflows',
  operations: 'Health, status, metrics and this document',
} as const;
export type RouteTag = keyof typeof TAGS;

/**
 * One HTTP route: the handler and what the OpenAPI document says about it. `responses` lists what the route itself
 * answers; the document adds what every route of its kind answers (openapi.ts: 401/403 with a scope, 400/413/415
 * with a body, 503 with Redis down, 408 and 431 everywhere), and the contract test fails on any other answer.
 */
export interface RouteSpec {
  method: 'get' | 'post' | 'delete';
  /** Express syntax (`:id`); the OpenAPI document writes `{id}`. */
  path: string;
  operationId: string;
  summary: string;
  /** What it does for a user, in a few sentences (Markdown). */
  description: string;
  tag: RouteTag;
  /**
   * A `(input, deps) => {status, body}` handler, `events` for a run's Server-Sent Events, or `logs` for a task's log
   * (JSON, or Server-Sent Events with `follow=true`).
   */
  handler: Handler | 'events' | 'logs';
  /** What a key needs here (enforced, and stated in the OpenAPI document); `none` only for /health (probes). */
  scope: RouteScope;
  /** Body fields that need more than `scope` when present, e.g. `save_as` (a template write) needs `admin`. */
  bodyScopes?: Record<string, ApiScope>;
  /** The JSON Schema of the body; a route without one ignores any body sent. */
  body?: object;
  /** The body may be left out (the handler then sees `{}`). */
  bodyOptional?: boolean;
  query?: object;
  /** `false`: the route answers as usual while Redis is down (it never reads Redis, or does without): no 503. */
  redis?: false;
  responses: Record<number, RouteResponse>;
}

export const json = (description: string, schema?: ResponseSchema, headers?: readonly ResponseHeader[]) =>
  ({ description, schema, ...(headers ? { headers } : {}) }) satisfies RouteResponse;
export const error = (description: string): RouteResponse => ({ description, schema: 'Error' });
export const notFound = error('No execution with this id (or it expired)');
export const invalid = error('The body or query is invalid; `details` point at each problem');

import type { ApprovalDecision, ExecutionRecord, ExecutionSummary } from './run-record';
import type { ExecutionStatus } from './run-status';

/** The bodies the REST API answers with, declared once: the API's handlers return them and the CLI reads them. */

/** Relative links of one execution, returned wherever a run is created or named. */
export interface ExecutionLinks {
  self: string;
  status: string;
  events: string;
  cancel: string;
}

/** `POST /api/v1/workflows`. */
export interface SubmitResponse {
  execution_id: string;
  status: ExecutionStatus;
  correlation_id: string | null;
  /** False when the correlation id named an existing run. */
  created: boolean;
  links: ExecutionLinks;
  /** With `?wait=`, when the run ended within the wait: its final record, as `GET /api/v1/workflows/{id}`. */
  record?: ExecutionRecord;
}

/** `GET /api/v1/workflows`. */
export interface ExecutionListResponse {
  items: ExecutionSummary[];
  next_cursor: string | null;
  links: { next: string | null };
}

/** `POST /api/v1/workflows/{id}/cancel`. */
export interface CancelResponse {
  execution_id: string;
  status: ExecutionStatus;
  cancel_requested: true;
  links: ExecutionLinks;
}

/** `POST /api/v1/workflows/{id}/retry`. */
export interface RetryResponse {
  execution_id: string;
  status: ExecutionStatus;
  retried_from: string;
  /** Tasks whose outputs were reused. */
  reused: string[];
  links: ExecutionLinks;
}

/** `POST /api/v1/workflows/{id}/pause` and `/resume`. */
export interface RunControlResponse {
  execution_id: string;
  status: ExecutionStatus;
  links: ExecutionLinks;
}

/** `POST /api/v1/workflows/{id}/tasks/{task}/approve` and `/reject`. */
export type DecisionResponse = { execution_id: string; task: string } & ApprovalDecision;

/** Every error answer: `{error: {code, message, details}}`. */
export interface ErrorResponse {
  error: { code: string; message: string; details: { pointer: string; message: string }[] };
}

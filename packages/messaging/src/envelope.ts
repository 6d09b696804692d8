import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import schema from './envelope.schema.json';

/** Published on a service's request channel: one attempt of one task. See envelope.schema.json. */
export interface ServiceRequest {
  type: 'request';
  /** Unique per attempt (`crypto.randomUUID()`). */
  request_id: string;
  correlation_id?: string;
  execution_id: string;
  task_id: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** `<execution_id>:<task_id>`: stable across attempts. */
  idempotency_key: string;
  operation: string;
  parameters: Record<string, unknown>;
  reply_channel: string;
  /** Epoch ms. */
  deadline: number;
  /** W3C trace context of the calling task attempt (absent when the caller does not trace); signed with the rest. */
  traceparent?: string;
  tracestate?: string;
}

/** Published on the same request channel when the caller stops waiting: the service should stop the work. */
export interface CancelMessage {
  type: 'cancel';
  request_id: string;
}

export interface ServiceErrorBody {
  code: string;
  message: string;
  retryable: boolean;
}

export type ServiceResponse = { type?: 'response'; request_id: string } & (
  | { status: 'ok'; result: unknown }
  | { status: 'error'; error: ServiceErrorBody }
);

/** What arrives on a request channel, validated. `invalid` keeps what could be read for an error reply. */
export type RequestChannelMessage =
  | { kind: 'request'; request: ServiceRequest }
  | { kind: 'cancel'; cancel: CancelMessage }
  | { kind: 'invalid'; reason: string; requestId?: string; replyChannel?: string };

/** A piece of a running request's output, published on its reply channel before its response. */
export interface OutputMessage {
  type: 'output';
  request_id: string;
  stream: 'stdout' | 'stderr';
  data: string;
}

/** What arrives on a reply channel, validated. `invalid` keeps the request id when one could be read. */
export type ResponseChannelMessage =
  | { kind: 'response'; response: ServiceResponse }
  | { kind: 'output'; output: OutputMessage }
  | { kind: 'invalid'; reason: string; requestId?: string };

export const ENVELOPE_SCHEMA = schema;

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
ajv.addSchema(schema);
const compiled = (name: string): ValidateFunction => {
  const validate = ajv.getSchema(`${schema.$id}#/definitions/${name}`);
  if (!validate) throw new Error(`envelope schema has no definition '${name}'`);
  return validate;
};
const validateRequest = compiled('request');
const validateCancel = compiled('cancel');
const validateResponse = compiled('response');
const validateOutput = compiled('output');

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .filter((e) => e.keyword !== 'if') // ajv adds a summary "must match then/else schema" to the specific error
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

function parseObject(text: string): { value?: Record<string, unknown>; reason?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { reason: `not JSON: ${(error as Error).message}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { reason: 'not a JSON object' };
  return { value: value as Record<string, unknown> };
}

const stringField = (value: Record<string, unknown> | undefined, key: string): string | undefined => {
  const field = value?.[key];
  return typeof field === 'string' && field.length > 0 ? field : undefined;
};

/** Validates a message from a request channel (a request or a cancel). */
export function parseRequestChannelMessage(text: string): RequestChannelMessage {
  const { value, reason } = parseObject(text);
  if (!value) return { kind: 'invalid', reason: reason as string };
  if (value.type === 'cancel') {
    if (validateCancel(value)) return { kind: 'cancel', cancel: value as unknown as CancelMessage };
    return { kind: 'invalid', reason: `invalid cancel message: ${describe(validateCancel.errors)}` };
  }
  if (validateRequest(value)) return { kind: 'request', request: value as unknown as ServiceRequest };
  return {
    kind: 'invalid',
    reason: `invalid request: ${describe(validateRequest.errors)}`,
    requestId: stringField(value, 'request_id'),
    replyChannel: stringField(value, 'reply_channel'),
  };
}

/** Validates a message from a reply channel. */
export function parseResponseMessage(text: string): ResponseChannelMessage {
  const { value, reason } = parseObject(text);
  if (!value) return { kind: 'invalid', reason: reason as string };
  if (value.type === 'output') {
    if (validateOutput(value)) return { kind: 'output', output: value as unknown as OutputMessage };
    return {
      kind: 'invalid',
      reason: `invalid output message: ${describe(validateOutput.errors)}`,
      requestId: stringField(value, 'request_id'),
    };
  }
  if (validateResponse(value)) return { kind: 'response', response: value as unknown as ServiceResponse };
  return {
    kind: 'invalid',
    reason: `invalid response: ${describe(validateResponse.errors)}`,
    requestId: stringField(value, 'request_id'),
  };
}

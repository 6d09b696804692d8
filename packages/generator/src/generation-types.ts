import {
  type planWorkflow,
  SERVICE_TASK_TYPES,
  type ServiceTaskType,
  type TemplateDefinition,
  type WorkflowDefinition,
} from '@orch/core';
import type { ErrorDetail } from '@orch/errors';
import type { Logger } from '@orch/logger';
import type { ClientOptions } from 'openai';

/** The external services a generated workflow may call (the catalog's service types); the others need none. */
export type ServiceType = Exclude<ServiceTaskType, 'http'>;
/** `http` calls the URL it names, not one of the platform's services; generated workflows do not use it. */
export const SERVICE_TYPES = SERVICE_TASK_TYPES.filter((t): t is ServiceType => t !== 'http');

export const COMPLEXITIES = ['low', 'medium', 'high'] as const;
export type Complexity = (typeof COMPLEXITIES)[number];

/** The body of the reference's `POST /api/v1/generate`. */
export interface GenerationRequest {
  prompt: string;
  domain?: string;
  complexity?: Complexity;
  /** Limits which of data, ai and exec may appear; all three when absent. */
  required_services?: ServiceType[];
}

export interface UpstreamRetryPolicy {
  /** Retries of one request after a 429, a 5xx or a connection failure. */
  maxRetries: number;
  /** First backoff; doubles on each retry. */
  initialDelayMs: number;
  /** Cap on one wait, `retry-after` included. */
  maxDelayMs: number;
}

export interface WorkflowGeneratorOptions {
  /** Any OpenAI-compatible server, e.g. `http://localhost:11434/v1`. */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  /** Budget of one whole `generate` call: every model request, retry and backoff. */
  timeoutMs: number;
  /** Candidates the model may produce (first try plus repairs); default 3. */
  maxAttempts?: number;
  /** Few-shot examples for the prompt. */
  templates?: TemplateDefinition[];
  logger?: Logger;
  fetch?: ClientOptions['fetch'];
  retry?: Partial<UpstreamRetryPolicy>;
  /** Clock for `provenance.generated_at`; tests pin it. */
  now?: () => Date;
}

export interface AttemptVerdict {
  attempt: number;
  valid: boolean;
  errors: ErrorDetail[];
}

export interface GenerationProvenance {
  prompt: string;
  domain: string | null;
  complexity: Complexity;
  required_services: ServiceType[];
  model: string;
  attempts: number;
  verdicts: AttemptVerdict[];
  generated_at: string;
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface GenerationResult {
  /** The last candidate (valid or not); null when no reply parsed as JSON. */
  workflow: WorkflowDefinition | null;
  valid: boolean;
  /** The last candidate's problems; empty when valid. */
  errors: ErrorDetail[];
  attempts: number;
  model: string;
  /** Summed over every attempt. */
  usage: TokenUsage;
  /** Execution order in levels, when valid. */
  plan: ReturnType<typeof planWorkflow> | null;
  provenance: GenerationProvenance;
}

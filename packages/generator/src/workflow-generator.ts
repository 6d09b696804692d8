import {
  planWorkflow,
  pointerJoin,
  prepareInline,
  type TemplateDefinition,
  validateWorkflow,
  type WorkflowDefinition,
} from '@orch/core';
import { type ErrorDetail, OrchestratorError } from '@orch/errors';
import { ExpressionError, resolveValue } from '@orch/expressions';
import { type Logger, silentLogger } from '@orch/logger';
import { DEFAULT_RETRY_POLICY } from './backoff';
import { checkRequiredServices } from './check-services';
import { Deadline } from './deadline';
import { allowedTaskTypes, buildRepairPrompt, buildSystemPrompt, buildUserPrompt } from './generation-prompt';
import { buildGenerationSchema } from './generation-schema';
import {
  type AttemptVerdict,
  COMPLEXITIES,
  type Complexity,
  type GenerationRequest,
  type GenerationResult,
  SERVICE_TYPES,
  type ServiceType,
  type TokenUsage,
  type WorkflowGeneratorOptions,
} from './generation-types';
import { type ChatMessage, ModelClient } from './model-client';
import { parseReply } from './parse-reply';

export const MAX_PROMPT_CHARS = 8000;
export const MAX_DOMAIN_CHARS = 200;
export const DEFAULT_MAX_ATTEMPTS = 3;

const NO_ENDPOINT =
  'workflow generation needs a model endpoint: set OPENAI_BASE_URL (any OpenAI-compatible server) and/or OPENAI_API_KEY';

interface NormalizedRequest {
  prompt: string;
  domain: string | null;
  complexity: Complexity;
  services: ServiceType[];
}

/**
 * Prompt -> workflow. Every candidate the model returns goes through the validator used for submitted workflows
 * (plus the request's service restriction); its errors go back to the model for a bounded number of repairs.
 * Running out of attempts is an answer (`valid: false`), not an error; endpoint failures and timeouts throw.
 */
export class WorkflowGenerator {
  private readonly client: ModelClient | undefined;
  private readonly logger: Logger;
  private readonly maxAttempts: number;
  private readonly templates: readonly TemplateDefinition[];
  private readonly now: () => Date;

  constructor(private readonly options: WorkflowGeneratorOptions) {
    this.logger = options.logger ?? silentLogger();
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.templates = options.templates ?? [];
    this.now = options.now ?? (() => new Date());
    // No endpoint is not a construction error: the service starts without one, and only generate() refuses.
    this.client =
      options.baseUrl || options.apiKey
        ? new ModelClient({
            baseUrl: options.baseUrl,
            apiKey: options.apiKey,
            model: options.model,
            fetch: options.fetch,
            retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
            logger: this.logger,
          })
        : undefined;
  }

  /** False when neither a base URL nor an API key is configured. */
  get configured(): boolean {
    return this.client !== undefined;
  }

  /** 'json_object' once the endpoint has refused structured output. */
  get responseFormat(): 'json_schema' | 'json_object' {
    return this.client?.responseFormat ?? 'json_schema';
  }

  async generate(request: GenerationRequest, options: { signal?: AbortSignal } = {}): Promise<GenerationResult> {
    const req = normalizeRequest(request);
    if (!this.client) throw new OrchestratorError('SERVICE_UNAVAILABLE', NO_ENDPOINT);
    const client = this.client;
    const schema = buildGenerationSchema(allowedTaskTypes(req.services));
    const conversation: ChatMessage[] = [
      { role: 'system', content: buildSystemPrompt(req.services, this.templates) },
      { role: 'user', content: buildUserPrompt(req) },
    ];
    const deadline = new Deadline(this.options.timeoutMs, options.signal);
    const usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0 };
    const verdicts: AttemptVerdict[] = [];
    let model = this.options.model;
    let workflow: WorkflowDefinition | null = null;
    let errors: ErrorDetail[] = [];
    let plan: Plan | null = null;
    let repair: ChatMessage[] = [];
    try {
      for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
        const reply = await client.complete([...conversation, ...repair], schema, deadline);
        usage.prompt_tokens += reply.usage.prompt_tokens;
        usage.completion_tokens += reply.usage.completion_tokens;
        model = reply.model;
        const parsed = parseReply(reply.content);
        if (parsed.ok) {
          workflow = isObject(parsed.value) ? (parsed.value as unknown as WorkflowDefinition) : null;
          ({ errors, plan } = checkCandidate(parsed.value, req.services));
        } else {
          workflow = null;
          plan = null;
          errors = [parsed.error];
        }
        verdicts.push({ attempt, valid: errors.length === 0, errors });
        this.logger.info('workflow generation attempt', { attempt, valid: errors.length === 0, errors: errors.length });
        if (errors.length === 0) break;
        // Only the latest candidate and its errors go back: the conversation stays bounded, and earlier
        // candidates' problems are either fixed or repeated in the latest list.
        repair = [
          { role: 'assistant', content: reply.content ?? '' },
          { role: 'user', content: buildRepairPrompt(errors) },
        ];
      }
    } finally {
      deadline.dispose();
    }
    const valid = workflow !== null && plan !== null && errors.length === 0;
    return {
      workflow,
      valid,
      errors,
      attempts: verdicts.length,
      model,
      usage,
      plan: valid ? plan : null,
      provenance: {
        prompt: req.prompt,
        domain: req.domain,
        complexity: req.complexity,
        required_services: req.services,
        model,
        attempts: verdicts.length,
        verdicts,
        generated_at: this.now().toISOString(),
      },
    };
  }
}

type Plan = ReturnType<typeof planWorkflow>;

/**
 * The validator's verdict plus the request's service rule. A candidate that passes is planned, which evaluates
 * its variables; they are evaluated one by one first, since `${1 / 0}` references nothing and passes validation.
 */
function checkCandidate(
  candidate: unknown,
  services: readonly ServiceType[],
): { errors: ErrorDetail[]; plan: Plan | null } {
  const errors = [...validateWorkflow(candidate).errors, ...checkRequiredServices(candidate, services)];
  if (errors.length > 0) return { errors, plan: null };
  const variables = (candidate as WorkflowDefinition).variables ?? {};
  const failures: ErrorDetail[] = [];
  for (const [name, value] of Object.entries(variables)) {
    try {
      resolveValue(value, {});
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      failures.push({ pointer: pointerJoin('/variables', name), message: error.message });
    }
  }
  if (failures.length > 0) return { errors: failures, plan: null };
  return { errors, plan: planWorkflow(prepareInline(candidate, {}, '')) };
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks the request body; an oversize prompt is its own error (413), everything else is collected (400). */
export function normalizeRequest(request: GenerationRequest): NormalizedRequest {
  const body = (request ?? {}) as unknown as Record<string, unknown>;
  const { prompt, domain, complexity, required_services: services } = body;
  if (typeof prompt === 'string' && prompt.length > MAX_PROMPT_CHARS) {
    throw new OrchestratorError(
      'PAYLOAD_TOO_LARGE',
      `prompt is ${prompt.length} characters; the limit is ${MAX_PROMPT_CHARS}`,
      { details: [{ pointer: '/prompt', message: `must be at most ${MAX_PROMPT_CHARS} characters` }] },
    );
  }
  const details: ErrorDetail[] = [];
  if (typeof prompt !== 'string') details.push({ pointer: '/prompt', message: 'prompt must be a string' });
  else if (prompt.trim() === '') details.push({ pointer: '/prompt', message: 'prompt must not be empty' });
  if (domain !== undefined && domain !== null && (typeof domain !== 'string' || domain.length > MAX_DOMAIN_CHARS)) {
    details.push({ pointer: '/domain', message: `domain must be a string of at most ${MAX_DOMAIN_CHARS} characters` });
  }
  if (complexity !== undefined && !(COMPLEXITIES as readonly unknown[]).includes(complexity)) {
    details.push({ pointer: '/complexity', message: `complexity must be one of: ${COMPLEXITIES.join(', ')}` });
  }
  if (
    services !== undefined &&
    (!Array.isArray(services) || !services.every((s) => (SERVICE_TYPES as readonly unknown[]).includes(s)))
  ) {
    details.push({
      pointer: '/required_services',
      message: `required_services must be a list of: ${SERVICE_TYPES.join(', ')}`,
    });
  }
  if (details.length > 0) {
    throw new OrchestratorError('BAD_REQUEST', details.map((d) => d.message).join('; '), { details });
  }
  return {
    prompt: (prompt as string).trim(),
    domain: typeof domain === 'string' && domain.trim() !== '' ? domain.trim() : null,
    complexity: (complexity as Complexity | undefined) ?? 'medium',
    // In the catalog's order, without duplicates, so prompts and provenance read the same for the same request.
    services: SERVICE_TYPES.filter((s) => (services as ServiceType[] | undefined)?.includes(s) ?? true),
  };
}

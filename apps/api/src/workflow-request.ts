import {
  type PreparedWorkflow,
  prepareFromTemplate,
  prepareInline,
  type TemplateDefinition,
  targetWorkflow,
} from '@orch/core';
import type { RunClaim, WorkflowEngine } from '@orch/engine';
import { ValidationError } from '@orch/errors';
import type { TemplateCatalog } from '@orch/templates';
import { requestFingerprint } from './request-fingerprint';

/** A request to run a workflow, from `POST /api/v1/workflows` or the `workflow-requests` channel. */
export interface WorkflowRequest {
  correlation_id?: string;
  workflow_template?: string;
  /** Inline template document; only `POST /api/v1/validate` takes one. */
  template?: unknown;
  workflow?: unknown;
  variables?: Record<string, unknown>;
  /** Run only these tasks and what they depend on. */
  targets?: readonly string[];
}

/**
 * Resolves a request whose envelope already passed its schema into a workflow ready to submit. Throws a
 * ValidationError whose pointers point into the request body: `/workflow_template`, `/variables/<name>`,
 * `/workflow/tasks/0/...`, `/template/...`.
 */
export function prepareRequest(request: WorkflowRequest, catalog: TemplateCatalog): PreparedWorkflow {
  const prepared = prepareDocument(request, catalog);
  return request.targets ? targetWorkflow(prepared, request.targets, '/targets') : prepared;
}

/**
 * `prepareRequest` with the task types SDK workers registered: as loaded within the last second, or, when the
 * request does not validate against those, as Redis has them now (a type registered a moment ago, a schema just
 * changed), so a cached view never refuses what a fresh one accepts.
 */
export async function prepareWithTaskTypes(
  engine: Pick<WorkflowEngine, 'loadTaskTypes'>,
  request: WorkflowRequest,
  catalog: TemplateCatalog,
): Promise<PreparedWorkflow> {
  await engine.loadTaskTypes();
  try {
    return prepareRequest(request, catalog);
  } catch (error) {
    if (!(error instanceof ValidationError) || !(await engine.loadTaskTypes({ fresh: true }))) throw error;
    return prepareRequest(request, catalog);
  }
}

function prepareDocument(request: WorkflowRequest, catalog: TemplateCatalog): PreparedWorkflow {
  const variables = request.variables ?? {};
  if (request.workflow_template !== undefined) {
    const id = request.workflow_template;
    if (!catalog.has(id)) {
      const known = catalog
        .list()
        .map((t) => t.id)
        .join(', ');
      throw new ValidationError(`unknown workflow template '${id}'`, [
        { pointer: '/workflow_template', message: `no template '${id}' in the catalog; available: ${known || 'none'}` },
      ]);
    }
    return prepareFromTemplate(catalog.get(id), variables);
  }
  if (request.template !== undefined) {
    try {
      return prepareFromTemplate(request.template as TemplateDefinition, variables);
    } catch (error) {
      // Template errors point into the template document; make them point into the body.
      if (error instanceof ValidationError && error.code === 'TEMPLATE_INVALID') {
        const details = error.details.map((d) => ({ ...d, pointer: `/template${d.pointer}` }));
        throw new ValidationError(error.message, details, { code: error.code, cause: error });
      }
      throw error;
    }
  }
  return prepareInline(request.workflow, variables, '/workflow');
}

/**
 * The claim of a request's correlation id: in the space of the key name that sent it (`submitter`; none for an open
 * API and the bus), with the fingerprint of what the body asks to run. Undefined without a correlation id.
 */
export function clientClaim(request: WorkflowRequest, submitter: string | undefined): RunClaim | undefined {
  if (request.correlation_id === undefined) return undefined;
  // What defines the run, not how it is answered (a bus message's `wait`): the same run asked for twice matches.
  const { correlation_id, workflow_template, template, workflow, variables, targets } = request;
  const fingerprint = requestFingerprint({ correlation_id, workflow_template, template, workflow, variables, targets });
  const claim: RunClaim = { space: 'client', id: request.correlation_id, fingerprint };
  if (submitter !== undefined) claim.submitter = submitter;
  return claim;
}

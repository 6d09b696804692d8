import type { SubmitResponse } from '@orch/run-model';
import { checkRequest, submitWorkflowBody } from '../request-schemas';
import { prepareRequest } from '../workflow-request';
import { executionLinks, type Handler } from './handler';

/**
 * `POST /api/v1/workflows`. Everything is validated before anything is written. A correlation id already used
 * within the TTL returns the existing run with 200; the engine's SET NX makes that hold across replicas.
 */
export const submitWorkflow: Handler = async (input, deps) => {
  const request = checkRequest(submitWorkflowBody, input.body, 'request body');
  await deps.engine.loadTaskTypes(); // SDK workers' types: validated against the schemas they registered
  const prepared = prepareRequest(request, deps.catalog);
  const result = await deps.engine.submit(prepared, {
    correlationId: request.correlation_id,
    requestId: input.requestId,
    submittedBy: input.caller.name,
  });
  const template = prepared.template?.id ?? 'inline';
  deps.metrics.submitted('http', template, result.created);
  deps.logger.info(result.created ? 'workflow submitted' : 'workflow already submitted', {
    execution_id: result.executionId,
    correlation_id: request.correlation_id,
    template,
    source: 'http',
    request_id: input.requestId,
    submitted_by: input.caller.name,
  });
  const links = executionLinks(result.executionId);
  return {
    status: result.created ? 202 : 200,
    headers: { location: links.status },
    body: {
      execution_id: result.executionId,
      status: result.status,
      correlation_id: request.correlation_id ?? null,
      created: result.created,
      links,
    } satisfies SubmitResponse,
  };
};

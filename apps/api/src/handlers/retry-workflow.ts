import { NotFoundError } from '@orch/errors';
import type { RetryResponse } from '@orch/run-model';
import { executionLinks, type Handler } from './handler';

/**
 * `POST /api/v1/workflows/{id}/retry`: a new run of a finished run's workflow that reuses the outputs of its
 * completed tasks. The engine answers 409 (CONFLICT) for a run that has not finished or has nothing to retry.
 */
export const retryWorkflow: Handler = async (input, deps) => {
  const id = input.params.id as string;
  const meta = await deps.engine.meta(id);
  if (!meta.status) throw new NotFoundError('execution', id);
  const result = await deps.engine.retry(id, { submittedBy: input.caller.name, requestId: input.requestId });
  deps.metrics.submitted('retry', meta.template_id ?? 'inline', true);
  deps.logger.info('workflow retried', {
    execution_id: result.executionId,
    retried_from: id,
    reused: result.reused,
    submitted_by: input.caller.name,
    correlation_id: meta.correlation_id,
    request_id: input.requestId,
  });
  const links = executionLinks(result.executionId);
  return {
    status: 202,
    headers: { location: links.status },
    body: {
      execution_id: result.executionId,
      status: result.status,
      retried_from: result.retried_from,
      reused: result.reused,
      links,
    } satisfies RetryResponse,
  };
};

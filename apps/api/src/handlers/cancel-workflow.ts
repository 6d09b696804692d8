import { NotFoundError, OrchestratorError } from '@orch/errors';
import type { CancelResponse } from '@orch/run-model';
import { TERMINAL_STATUSES } from '@orch/run-model';
import { executionLinks, type Handler } from './handler';

/**
 * `POST /api/v1/workflows/{id}/cancel`. A pending run ends at once (200, `cancelled`); a running one stops
 * starting tasks and aborts the running ones, then ends as `cancelled` (202). A finished run is a 409.
 */
export const cancelWorkflow: Handler = async (input, deps) => {
  const id = input.params.id as string;
  const before = await deps.engine.meta(id);
  if (!before.status) throw new NotFoundError('execution', id);
  if (TERMINAL_STATUSES.has(before.status)) {
    throw new OrchestratorError(
      'CONFLICT',
      `execution ${id} already ended as ${before.status}; it cannot be cancelled`,
    );
  }
  const status = await deps.engine.cancel(id);
  deps.logger.info('workflow cancel requested', { execution_id: id, correlation_id: before.correlation_id, status });
  const ended = TERMINAL_STATUSES.has(status);
  return {
    status: ended ? 200 : 202,
    body: { execution_id: id, status, cancel_requested: true, links: executionLinks(id) } satisfies CancelResponse,
  };
};

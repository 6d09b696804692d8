import type { TaskParameters } from '@orch/core';
import type { TaskHandler } from '@orch/engine';
import { callService, type ServiceTaskDeps } from './call-service';

/**
 * `data` tasks: `traverse`, `search` and `enrich` on the data-abstractor (`data-requests`). The parameters go as
 * they are; the output is the service's result (`{rows, count}`, `{matches, count}`, `{items, enriched_with}`).
 */
export function createDataTask(deps: ServiceTaskDeps): TaskHandler<TaskParameters<'data'>> {
  return (parameters, context) => callService(deps, 'data', parameters.operation, parameters, context);
}

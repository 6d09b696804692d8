import { RESERVED_NAMES } from '@orch/core';
import { NotFoundError, OrchestratorError } from '@orch/errors';
import type { DecisionResponse, ExecutionStatus, RunControlResponse } from '@orch/run-model';
import { checkRequest, decisionBody } from '../request-schemas';
import { executionLinks, type Handler } from './handler';

/** `POST /api/v1/workflows/{id}/pause`: no task starts until resume; running tasks finish. */
export const pauseWorkflow: Handler = async (input, deps) => {
  const id = input.params.id as string;
  const status: ExecutionStatus = await deps.engine.pause(id);
  deps.logger.info('workflow paused', { execution_id: id });
  return { status: 200, body: { execution_id: id, status, links: executionLinks(id) } satisfies RunControlResponse };
};

/** `POST /api/v1/workflows/{id}/resume`: releases what became ready while paused. */
export const resumeWorkflow: Handler = async (input, deps) => {
  const id = input.params.id as string;
  const status = await deps.engine.resume(id);
  deps.logger.info('workflow resumed', { execution_id: id });
  return { status: 200, body: { execution_id: id, status, links: executionLinks(id) } satisfies RunControlResponse };
};

function decisionHandler(decision: 'approve' | 'reject'): Handler {
  return async (input, deps) => {
    const id = input.params.id as string;
    const task = input.params.task as string;
    // No task can have these ids (the validator refuses them); looked up in a plain object they would find its
    // prototype's members.
    if ((RESERVED_NAMES as readonly string[]).includes(task)) throw new NotFoundError('task', task);
    const body = checkRequest(decisionBody, input.body ?? {}, 'request body');
    const by = decider(input.caller.name, body.by);
    const payload =
      decision === 'reject' && body.reason !== undefined
        ? { ...(body.payload as object), reason: body.reason }
        : body.payload;
    const recorded = await deps.engine.decide(id, task, decision, payload, by);
    deps.logger.info(`approval task ${decision}d`, { execution_id: id, task_id: task, by });
    return { status: 200, body: { execution_id: id, task, ...recorded } satisfies DecisionResponse };
  };
}

/**
 * Who decides: the key's name. `by` in the body may only repeat it, since `approvers:` are key names and a key must
 * not speak for another. Without API keys nobody is authenticated and `by` is taken as given.
 */
function decider(keyName: string | undefined, claimed: string | undefined): string | undefined {
  if (keyName === undefined) return claimed;
  if (claimed !== undefined && claimed !== keyName) {
    throw new OrchestratorError(
      'FORBIDDEN',
      `decisions are recorded under the calling key's name ('${keyName}'); by: '${claimed}' cannot be claimed with it`,
    );
  }
  return keyName;
}

/** `POST /api/v1/workflows/{id}/tasks/{task}/approve`: the payload becomes the approval task's output. */
export const approveTask = decisionHandler('approve');
/** `POST /api/v1/workflows/{id}/tasks/{task}/reject`: the approval task fails with the reason. */
export const rejectTask = decisionHandler('reject');

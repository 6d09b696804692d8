import { OrchestratorError } from '@orch/errors';

/** `approvers:` names who may decide (API key names); it is enforced here, fail-closed when it is not a plain list. */
export function checkApprover(
  parameters: Record<string, unknown> | undefined,
  taskId: string,
  by: string | undefined,
): void {
  const approvers = parameters?.approvers;
  if (approvers === undefined || (Array.isArray(approvers) && approvers.length === 0)) return;
  if (!Array.isArray(approvers) || !approvers.every((a) => typeof a === 'string')) {
    throw new OrchestratorError(
      'FORBIDDEN',
      `task ${taskId}: approvers must be a list of key names; nobody may decide`,
    );
  }
  if (by === undefined || !approvers.includes(by)) {
    throw new OrchestratorError(
      'FORBIDDEN',
      `task ${taskId} may be decided only by ${approvers.join(', ')}; ${by === undefined ? 'the decision names nobody' : `not by ${by}`}`,
    );
  }
}

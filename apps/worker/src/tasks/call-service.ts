import { PermanentTaskError, type TaskContext } from '@orch/engine';
import { type MessageCoordinator, SERVICE_CHANNELS, ServiceCallError, type ServiceKind } from '@orch/messaging';

export interface ServiceTaskDeps {
  coordinator: MessageCoordinator;
  /** How long to wait for a service when the attempt has no deadline (a task without a timeout). */
  defaultTimeoutMs?: number;
}

export const DEFAULT_SERVICE_TIMEOUT_MS = 300_000;

/**
 * One attempt's call to a service over the message coordinator, carrying the attempt's ids, signal and deadline.
 * Failures the service (or the envelope) marks as not retryable become PermanentTaskError; the rest stay retryable.
 */
export async function callService(
  deps: ServiceTaskDeps,
  kind: ServiceKind,
  operation: string,
  parameters: Record<string, unknown>,
  context: TaskContext,
  /** Pieces of the call's output as the service streams them (the exec-agent's stdout and stderr). */
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void,
): Promise<unknown> {
  const { service, requests, responses } = SERVICE_CHANNELS[kind];
  const deadline = context.deadline ?? Date.now() + (deps.defaultTimeoutMs ?? DEFAULT_SERVICE_TIMEOUT_MS);
  context.logger.debug('calling service', { service, operation, channel: requests });
  try {
    return await deps.coordinator.request(
      requests,
      responses,
      {
        execution_id: context.executionId,
        task_id: context.taskId,
        attempt: context.attempt,
        correlation_id: context.correlationId,
        operation,
        parameters,
      },
      { deadline, signal: context.signal, onOutput },
    );
  } catch (error) {
    throw toTaskError(error);
  }
}

/** A ServiceCallError that says retrying cannot help becomes the engine's PermanentTaskError. */
export function toTaskError(error: unknown): unknown {
  if (error instanceof ServiceCallError && !error.retryable) {
    return new PermanentTaskError(error.message, { cause: error, code: error.code });
  }
  return error;
}

import type { TaskContext as EngineTaskContext } from '@orch/core';

/**
 * What a handler gets besides its parameters: everything the engine's own handlers get (ids, the attempt, an
 * AbortSignal that fires on timeout or cancel, a logger whose lines carry the run's ids), plus `heartbeat`.
 */
export interface TaskContext extends EngineTaskContext {
  /**
   * Says the task is alive at a checkpoint of a long loop: logs `details` (at debug) and throws if the attempt was
   * aborted meanwhile, so the loop stops at once.
   */
  heartbeat(details?: Record<string, unknown>): void;
}

/** The engine's context, as the SDK hands it to a handler (every field kept, whatever the engine adds later). */
export function sdkContext(context: EngineTaskContext): TaskContext {
  const ctx = Object.defineProperties({}, Object.getOwnPropertyDescriptors(context)) as TaskContext;
  ctx.heartbeat = (details) => {
    context.signal?.throwIfAborted();
    context.logger.debug('heartbeat', details);
  };
  return ctx;
}

/** The handler contract lives with the task types in @orch/core; the engine's callers find it here too. */

export type { TaskContext, TaskHandler } from '@orch/core';
export { PermanentTaskError } from '@orch/errors';

/** `@orchestrator/worker`: your own task types, run by your own worker. */
export { PermanentTaskError, RetryableTaskError } from '@orch/errors';
export { defineTask, type JsonSchema, type TaskDefinition } from './define-task';
export { type RunningWorker, type StartWorkerOptions, startWorker } from './start-worker';
export type { TaskContext } from './task-context';

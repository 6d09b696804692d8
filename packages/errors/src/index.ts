export * from './orchestrator-error';
export * from './permanent-task-error';
export * from './retryable-task-error';

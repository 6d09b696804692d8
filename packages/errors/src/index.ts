export * from './orchestrator-error';
export * from './permanent-task-error';

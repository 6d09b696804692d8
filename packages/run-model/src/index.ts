export * from './api-responses';
export * from './event-shapes';
export * from './run-events';
export * from './run-record';
export * from './run-status';
export * from './task-logs';
export * from './worker-info';

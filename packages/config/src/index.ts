export * from './api-keys';
export * from './http-task-settings';
export * from './load-config';
export { partitionOptions } from './partition-settings';

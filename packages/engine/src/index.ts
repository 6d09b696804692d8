export * from './task-handler';

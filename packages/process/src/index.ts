export * from './cluster-nodes';
export * from './redis-cluster';
export * from './resp-command';
export * from './run-process';

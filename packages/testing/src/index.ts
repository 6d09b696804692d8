export * from './certificates';
export * from './deadline';
export * from './redis-cluster';
export * from './redis-server';

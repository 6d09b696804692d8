export * from './connection-log';
export * from './create-redis-client';
export * from './create-redis-connection';
export * from './keys';
export * from './partitions';
export * from './publish-counted';
export * from './redis-client';
export * from './shutdown-steps';

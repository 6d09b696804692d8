export * from './connection-log';
export * from './create-redis-client';
export * from './create-redis-connection';
export * from './keys';
export * from './publish-counted';
export * from './shutdown-steps';

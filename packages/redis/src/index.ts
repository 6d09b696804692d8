export * from './create-redis-connection';
export * from './keys';

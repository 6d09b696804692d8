export * from './deadline';
export * from './redis-server';

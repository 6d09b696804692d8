export * from './certificates';
export * from './deadline';
export * from './redis-server';

export * from './api-keys';
export * from './load-config';

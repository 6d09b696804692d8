export * from './deploy-files';

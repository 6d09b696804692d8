export * from './parse-document';
export * from './template-catalog';

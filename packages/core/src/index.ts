export { ajv, formatAjvErrors, pointerJoin } from './ajv';
export * from './analyze-dag';
export * from './duration';
export * from './prepare-workflow';
export * from './task-catalog';
export * from './validate-workflow';
export * from './variables';
export * from './workflow';
export * from './workflow-schema';

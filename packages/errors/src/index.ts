export * from './orchestrator-error';

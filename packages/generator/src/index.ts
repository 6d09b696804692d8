export { DEFAULT_RETRY_POLICY, retryDelayMs } from './backoff';
export { checkRequiredServices } from './check-services';
export {
  type DryRunBranch,
  type DryRunError,
  type DryRunResult,
  type DryRunStatus,
  type DryRunTaskResult,
  dryRun,
} from './dry-run';
export {
  allowedTaskTypes,
  buildRepairPrompt,
  buildSystemPrompt,
  buildUserPrompt,
  MAX_EXAMPLES,
} from './generation-prompt';
export { buildGenerationSchema } from './generation-schema';
export * from './generation-types';
export { parseReply } from './parse-reply';
export { toTemplateYaml } from './template-yaml';
export { UpstreamError } from './upstream-error';
export {
  DEFAULT_MAX_ATTEMPTS,
  MAX_DOMAIN_CHARS,
  MAX_PROMPT_CHARS,
  normalizeRequest,
  WorkflowGenerator,
} from './workflow-generator';

import type { TaskHandlers } from '@orch/engine';
import type { OpenAiSettings } from '@orch/llm';
import type { MessageCoordinator } from '@orch/messaging';
import { createAiTask } from './ai.task';
import { createDataTask } from './data.task';
import { createExecTask } from './exec.task';

export interface ServiceHandlerDeps {
  /** One per process, shared by every handler (one subscriber connection). */
  coordinator: MessageCoordinator;
  /** `config.openai`. */
  openai?: OpenAiSettings;
  /** For attempts without a deadline. */
  defaultTimeoutMs?: number;
}

/**
 * The handlers of the service task types: the worker's whole handler table (builtin and control types run from
 * their modules). It does not compile while a service type of the catalog lacks a handler.
 */
export function createServiceHandlers(deps: ServiceHandlerDeps): TaskHandlers {
  return { data: createDataTask(deps), ai: createAiTask(deps), exec: createExecTask(deps) };
}

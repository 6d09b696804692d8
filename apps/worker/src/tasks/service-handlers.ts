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
 * The handlers of the three service task types, to spread into the worker's handler table:
 * `{ ...builtinHandlers, ...createServiceHandlers({ coordinator, openai: config.openai }), ... }`.
 */
export function createServiceHandlers(deps: ServiceHandlerDeps): TaskHandlers {
  return { data: createDataTask(deps), ai: createAiTask(deps), exec: createExecTask(deps) };
}

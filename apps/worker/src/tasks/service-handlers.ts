import type { HttpTaskSettings } from '@orch/config';
import type { TaskHandlers } from '@orch/engine';
import type { OpenAiSettings } from '@orch/llm';
import type { MessageCoordinator } from '@orch/messaging';
import { createAiTask } from './ai.task';
import { createDataTask } from './data.task';
import { createExecTask } from './exec.task';
import { createHttpTask } from './http.task';

export interface ServiceHandlerDeps {
  /** One per process, shared by every handler (one subscriber connection). */
  coordinator: MessageCoordinator;
  /** `config.openai`. */
  openai?: OpenAiSettings;
  /** For attempts without a deadline. */
  defaultTimeoutMs?: number;
  /** `config.httpTask`: where http tasks may connect (the defaults block loopback, private and metadata ranges). */
  http?: HttpTaskSettings;
}

const NO_HTTP_RULES: HttpTaskSettings = {
  allow: { hosts: [], cidrs: [] },
  deny: { hosts: [], cidrs: [] },
  secretEnv: [],
};

/**
 * The handlers of the service task types: the worker's whole handler table (builtin and control types run from
 * their modules). It does not compile while a service type of the catalog lacks a handler.
 */
export function createServiceHandlers(deps: ServiceHandlerDeps): TaskHandlers {
  return {
    data: createDataTask(deps),
    ai: createAiTask(deps),
    exec: createExecTask(deps),
    http: createHttpTask(deps.http ?? NO_HTTP_RULES),
  };
}

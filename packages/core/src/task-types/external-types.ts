import type { TaskTypeModule } from './task-type';

/** What an SDK worker registers for a task type of its own (kept in Redis, `task-types`). */
export interface ExternalTaskTypeSpec {
  name: string;
  description?: string;
  /** JSON Schema of the parameters (after their expressions are evaluated). */
  parameters: Record<string, unknown>;
  /** JSON Schema of the output, checked by the SDK worker on each result. */
  output?: Record<string, unknown>;
  /** The task queue its tasks go to unless they say `queue:`. */
  queue: string;
  /** The worker that registered it. */
  worker?: string;
  registered_at?: string;
}

/** An SDK type: run by the worker that registered it (`service`), its tasks sent to its queue by default. */
export type ExternalTaskType = TaskTypeModule<string, Record<string, unknown>, 'service'> & {
  queue: string;
  spec: ExternalTaskTypeSpec;
};

/** A type name is also a job name and a queue name: lowercase, digits, - and _. */
export const EXTERNAL_TYPE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

export function externalModule(spec: ExternalTaskTypeSpec): ExternalTaskType {
  return {
    name: spec.name,
    kind: 'service',
    description: spec.description ?? `registered by ${spec.worker ?? 'an SDK worker'}`,
    schema: spec.parameters,
    run: { kind: 'service' },
    queue: spec.queue,
    spec,
    // A dry run cannot call user code; its output is unknown until the type runs.
    simulate: () => ({}),
  };
}

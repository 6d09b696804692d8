import { PermanentTaskError } from '@orch/errors';
import { resolveValue } from '@orch/expressions';
import { parseDuration } from '../duration';
import { subTaskSchema } from './schema-parts';
import {
  defineTaskType,
  type Simulation,
  type SubTaskSource,
  type SubTaskSpec,
  simulatedParameters,
} from './task-type';

/** The types a sub-task may have: the catalog's types marked `subTask` (checked against it in the catalog). */
export const SUB_TASK_TYPES = ['data', 'ai', 'exec', 'transform'] as const;

const MAX_ITEMS = 10_000;

const schema = {
  type: 'object',
  properties: {
    tasks: { type: 'array', minItems: 1, items: subTaskSchema(SUB_TASK_TYPES) },
    for_each: { type: 'array' },
    task: subTaskSchema(SUB_TASK_TYPES),
    max_items: { type: 'integer', minimum: 1, maximum: MAX_ITEMS },
    max_concurrency: { type: 'integer', minimum: 1, maximum: MAX_ITEMS },
  },
  oneOf: [{ required: ['tasks'] }, { required: ['for_each', 'task'] }],
  'x-message': 'needs either tasks (a list of sub-tasks) or for_each (a list) with task (one sub-task)',
} as const;

/**
 * Adds one child job per sub-task and waits, holding no worker, until they are all done (BullMQ's step-job pattern);
 * its output is their outputs in declared order. Sub-tasks see `item` and `index`, so their parameters are resolved
 * here, per sub-task.
 */
export const parallel = defineTaskType<'parallel', typeof schema, 'control', { step: 'children'; attempt: number }>({
  name: 'parallel',
  kind: 'control',
  description: 'Run sub-tasks concurrently (a fixed list, or one sub-task per item of `for_each`).',
  schema,
  run: {
    kind: 'control',
    resolvesOwnParameters: true,
    async run({ source, scope }, job, context) {
      // Each attempt (a retry after a timeout, say) runs its own sub-tasks.
      if (job.state.step !== 'children' || (job.state.attempt ?? 1) !== context.attempt) {
        const subTasks = resolveSubTasks(source.id, source.parameters ?? {}, scope);
        await context.addSubTasks(subTasks, concurrencyOf(source.id, source.parameters ?? {}, scope));
        await job.save({ step: 'children', attempt: context.attempt });
        await context.waitForSubTasks();
      }
      const { failures, outputs } = await context.subTaskResults();
      if (failures.length > 0) {
        const [key, reason] = failures[0] as [string, string];
        throw new PermanentTaskError(`${failures.length} sub-task(s) failed; ${key}: ${reason}`);
      }
      return outputs;
    },
  },
  validate(task, pointer) {
    const type = (task.parameters as { task?: { type?: unknown } } | undefined)?.task?.type;
    if (typeof type !== 'string' || (SUB_TASK_TYPES as readonly string[]).includes(type)) return [];
    return [
      {
        pointer: pointer('parameters', 'task', 'type'),
        message: `sub-tasks may be ${SUB_TASK_TYPES.join(', ')}; got '${type}'`,
      },
    ];
  },
  expressionScopes: (parameters) => [{ value: parameters.task, path: ['task'], names: ['item', 'index'] }],
  simulate(task, at, sim) {
    const { tasks, task: perItem, ...rest } = (task.parameters ?? {}) as Record<string, unknown>;
    const resolved = simulatedParameters({ ...task, parameters: rest }, at, sim);
    if (Array.isArray(tasks)) return tasks.map((sub, j) => sim.simulate(sub, `${at}/parameters/tasks/${j}`));
    return simulateForEach(resolved.for_each, perItem as SubTaskSource, at, sim);
  },
});

function simulateForEach(items: unknown, perItem: SubTaskSource, at: string, sim: Simulation): unknown[] {
  if (!Array.isArray(items)) {
    // Undefined means the expression already failed and was reported.
    if (items !== undefined)
      sim.report(`${at}/parameters/for_each`, `must be a list; got ${JSON.stringify(items) ?? String(items)}`);
    return [];
  }
  return items.map((item, index) => sim.with({ item, index }).simulate(perItem, `${at}/parameters/task`));
}

/** `max_concurrency` (Argo's template `parallelism`): at most this many items run at once. */
function concurrencyOf(
  id: string,
  parameters: Record<string, unknown>,
  scope: Record<string, unknown>,
): number | undefined {
  if (parameters.max_concurrency === undefined) return undefined;
  const limit = resolveValue(parameters.max_concurrency, scope);
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
    throw new PermanentTaskError(
      `max_concurrency of task ${id} must be a positive integer; got ${JSON.stringify(limit)}`,
    );
  return limit;
}

/** The sub-tasks with their parameters resolved: a fixed list, or one per item of `for_each`. */
function resolveSubTasks(
  id: string,
  parameters: Record<string, unknown>,
  scope: Record<string, unknown>,
): SubTaskSpec[] {
  const params = parameters as { tasks?: SubTaskSource[]; for_each?: unknown; task?: SubTaskSource };
  const spec = (sub: SubTaskSource, names: Record<string, unknown>): SubTaskSpec => {
    const resolved: SubTaskSpec = {
      type: sub.type,
      parameters: resolveValue(sub.parameters ?? {}, names) as Record<string, unknown>,
    };
    if (sub.timeout !== undefined) resolved.timeoutMs = parseDuration(sub.timeout);
    return resolved;
  };
  if (params.tasks) return params.tasks.map((sub) => spec(sub, scope));
  const items = typeof params.for_each === 'string' ? resolveValue(params.for_each, scope) : params.for_each;
  if (!Array.isArray(items)) throw new PermanentTaskError(`for_each of task ${id} must be a list; got ${typeof items}`);
  if (items.length > MAX_ITEMS)
    throw new PermanentTaskError(`for_each of task ${id} has ${items.length} items; the limit is ${MAX_ITEMS}`);
  const template = params.task as SubTaskSource;
  return items.map((item, index) => spec(template, { ...scope, item, index }));
}

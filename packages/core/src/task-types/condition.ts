import { conditionExpression } from './schema-parts';
import { defineTaskType, simulatedParameters } from './task-type';

const schema = { type: 'object' } as const;

/** Dependents on its `on_success` branch run when `result` is true, those on `on_failure` when it is false. */
export const condition = defineTaskType<'condition', typeof schema, 'builtin'>({
  name: 'condition',
  kind: 'builtin',
  description: 'Evaluate `condition`; run `on_success` tasks when true and `on_failure` tasks when false.',
  schema,
  run: {
    kind: 'builtin',
    // The expression language tests with truthiness (`!`, `&&`, `?:`); a condition task does the same.
    handler: async (parameters) => ({ result: Boolean(parameters.condition), value: parameters.condition }),
    extraParameters: (source) =>
      source.condition === undefined ? {} : { condition: conditionExpression(source.condition) },
  },
  branches: true,
  validate: (task, pointer) =>
    task.condition === undefined
      ? [
          {
            pointer: pointer('condition'),
            message: 'is required for a \'condition\' task, for example "${score > 0.8}"',
          },
        ]
      : [],
  simulate(task, at, sim) {
    simulatedParameters(task, at, sim);
    const value = sim.resolve(conditionExpression(task.condition ?? ''), `${at}/condition`);
    return { result: Boolean(value), value };
  },
});

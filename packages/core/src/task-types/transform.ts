import { defineTaskType, simulatedParameters } from './task-type';

const schema = { type: 'object', required: ['output'], properties: { output: {} } } as const;

export const transform = defineTaskType<'transform', typeof schema, 'builtin'>({
  name: 'transform',
  kind: 'builtin',
  description: 'Output `parameters.output` with its expressions evaluated. No side effects.',
  schema,
  /** The output is `parameters.output`, already evaluated. */
  run: { kind: 'builtin', handler: async (parameters) => parameters.output },
  subTask: true,
  simulate: (task, at, sim) => simulatedParameters(task, at, sim).output,
});

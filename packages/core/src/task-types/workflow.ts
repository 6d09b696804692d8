import { PermanentTaskError } from '@orch/errors';
import { namedValues } from '../reserved-names';
import { templateReferenceSchema } from './schema-parts';
import { defineTaskType, simulatedParameters } from './task-type';

/**
 * Sub-workflows may nest this deep unless `MAX_SUBWORKFLOW_DEPTH` says otherwise; deeper is a permanent failure (a
 * template calling itself with no end). Argo allows 100; a recursion that ends (a coin flip until heads) needs more
 * than a handful.
 */
export const MAX_WORKFLOW_DEPTH = 20;

/** The task note that holds the child run a `workflow` task started (runs ending cancel their children). */
export const CHILD_RUN_NOTE = 'child';

const schema = {
  type: 'object',
  properties: {
    template: templateReferenceSchema,
    workflow: { type: 'object' },
    variables: namedValues,
  },
  oneOf: [{ required: ['template'] }, { required: ['workflow'] }],
  'x-message': 'needs either template (a catalog id, optionally @version) or workflow (an inline workflow)',
} as const;

/**
 * Starts a child run (idempotently: its correlation id is this task attempt) and parks until the child's end
 * promotes it. Completed: the output is the child's task outputs and its result (its `output:`, else its final tasks'
 * outputs). Failed: the attempt fails, and a retry starts a
 * new child run.
 */
export const workflow = defineTaskType<'workflow', typeof schema, 'control', { child: string; childAttempt: number }>({
  name: 'workflow',
  kind: 'control',
  description:
    "Run another workflow (a catalog template, `id` or `id@version`, or an inline workflow) as this task; its task outputs and its result (`result`: the child's `output:`, or its final tasks' outputs) become this task's output.",
  schema,
  // An inline child is its own scope: its `${...}` are its own variables' and tasks', given through `variables`.
  literalParameters: ['workflow'],
  holdsSlot: true,
  run: {
    kind: 'control',
    async run({ parameters }, job, context) {
      const depth = context.depth + 1;
      if (depth > context.maxDepth) {
        throw new PermanentTaskError(
          `sub-workflow depth limit ${context.maxDepth} (MAX_SUBWORKFLOW_DEPTH) reached at task ${context.taskId}; does a template run itself?`,
        );
      }
      let child = job.state.child;
      if (!child || job.state.childAttempt !== context.attempt) {
        if (!context.hasTemplates && parameters.template !== undefined)
          throw new PermanentTaskError('this worker has no template catalog');
        const source =
          typeof parameters.template === 'string'
            ? { template: parameters.template }
            : { workflow: parameters.workflow };
        const variables = (parameters.variables ?? {}) as Record<string, unknown>;
        const correlationId = `${context.executionId}.${context.taskId}.${context.attempt}`;
        child = await context.startChildRun(source, variables, correlationId);
        await context.setNote(CHILD_RUN_NOTE, child);
        await job.save({ child, childAttempt: context.attempt });
      }
      const outcome = await context.runOutcome(child);
      if (!outcome.ended) return job.park();
      if (outcome.status !== 'completed')
        throw new Error(`sub-workflow ${child} ${outcome.status}: ${outcome.error ?? 'no error recorded'}`);
      return { execution_id: child, status: outcome.status, outputs: outcome.outputs, result: outcome.result };
    },
    async timedOut(job, context) {
      if (job.state.child && job.state.childAttempt === context.attempt)
        await context.cancelRun(job.state.child, `task ${context.taskId} of ${context.executionId} timed out`);
    },
  },
  validate(task, pointer, nested) {
    const { workflow, variables } = (task.parameters ?? {}) as { workflow?: unknown; variables?: unknown };
    // With `variables` an expression, the child's inputs are known only at run time: it is validated then.
    if (workflow === undefined || (variables !== undefined && (typeof variables !== 'object' || variables === null)))
      return [];
    return nested.workflow(workflow, Object.keys(variables ?? {}), pointer('parameters', 'workflow'));
  },
  simulate(task, at, sim) {
    const { workflow: _child, ...outer } = (task.parameters ?? {}) as Record<string, unknown>;
    simulatedParameters({ ...task, parameters: outer }, at, sim);
    // A dry run does not start child runs; their outputs are unknown.
    return { execution_id: 'dry-run', status: 'completed', outputs: {}, result: null };
  },
});

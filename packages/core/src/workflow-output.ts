import type { ErrorDetail } from '@orch/errors';
import { collectExpressions, ExpressionError, expressionReferences } from '@orch/expressions';
import { checkExpressions, TASK_FIELDS } from './check-task';
import type { WorkflowDefinition } from './workflow';

/**
 * A workflow's `output:` reads variables and the `.output`, `.status` and `.error` of its tasks (all have ended when
 * it is evaluated, so no edge is needed); exit handlers are not in its scope (they run after it).
 */
export function checkWorkflowOutput(
  workflow: WorkflowDefinition,
  names: { variables: ReadonlySet<string>; tasks: ReadonlyMap<string, number> },
  pointer: string,
  errors: ErrorDetail[],
): void {
  if (workflow.output === undefined) return;
  try {
    checkOutput(workflow.output, names, pointer, errors);
  } catch (error) {
    // An unterminated `${`: reported where it is.
    if (!(error instanceof ExpressionError)) throw error;
    errors.push(...(error.details.length > 0 ? error.details : [{ pointer, message: error.message }]));
  }
}

function checkOutput(
  output: unknown,
  names: { variables: ReadonlySet<string>; tasks: ReadonlyMap<string, number> },
  pointer: string,
  errors: ErrorDetail[],
): void {
  checkExpressions(output, pointer, errors, (root, path) => {
    if (names.variables.has(root)) return undefined;
    if (!names.tasks.has(root))
      return `unknown name '${root}': the workflow's output reads variables and tasks (${'${'}task.output${'}'})`;
    if (typeof path[0] !== 'string' || !TASK_FIELDS.has(path[0]))
      return `'${root}' is a task: read ${'${'}${root}.output${'}'} (or .status, .error)`;
    return undefined;
  });
}

/** The tasks a workflow's `output:` reads (checked at submit, so every root is a variable or a task). */
export function workflowOutputReads(workflow: WorkflowDefinition): string[] {
  const tasks = new Set(workflow.tasks.map((t) => t.id));
  const read = new Set<string>();
  for (const { source } of collectExpressions(workflow.output))
    for (const ref of expressionReferences(source)) if (tasks.has(ref.root)) read.add(ref.root);
  return [...read];
}

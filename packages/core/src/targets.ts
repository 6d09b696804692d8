import { type ErrorDetail, ValidationError } from '@orch/errors';
import type { CompiledTask } from './compile-workflow';
import type { PreparedWorkflow } from './prepare-workflow';

/**
 * A submission's `targets` (Argo's `dag.target`): the run does only those tasks and what they depend on, directly or
 * not; the others are recorded `skipped` with the reason `not targeted` when the run is created. Exit handlers are not
 * targets: they always run. Throws a ValidationError with a pointer per unknown target (under `base`).
 */
export function targetWorkflow(
  prepared: PreparedWorkflow,
  targets: readonly string[],
  base = '/targets',
): PreparedWorkflow {
  const { compiled, dag } = prepared;
  const errors: ErrorDetail[] = [];
  targets.forEach((target, i) => {
    if (Object.hasOwn(compiled.tasks, target)) return;
    const message = Object.hasOwn(compiled.exitTasks ?? {}, target)
      ? `'${target}' is an exit handler; exit handlers always run and cannot be targets`
      : `unknown task '${target}'; the workflow's tasks are: ${Object.keys(compiled.tasks).join(', ')}`;
    errors.push({ pointer: `${base}/${i}`, message });
  });
  if (errors.length > 0) throw new ValidationError('targets name tasks the workflow does not have', errors);
  const needed = new Set<string>();
  const stack = [...targets];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (needed.has(id)) continue;
    needed.add(id);
    stack.push(...(dag.dependencies[id] ?? []));
  }
  // Tasks keep their order and their fields; the ones left out are no one's dependent and no root.
  const tasks: Record<string, CompiledTask> = Object.create(null);
  for (const [id, task] of Object.entries(compiled.tasks)) {
    tasks[id] = needed.has(id) ? { ...task, dependents: task.dependents.filter((d) => needed.has(d)) } : task;
  }
  return {
    ...prepared,
    compiled: {
      ...compiled,
      tasks,
      roots: compiled.roots.filter((id) => needed.has(id)),
      untargeted: Object.keys(compiled.tasks).filter((id) => !needed.has(id)),
    },
  };
}

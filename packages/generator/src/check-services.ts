import type { ErrorDetail } from '@orch/errors';
import { SERVICE_TYPES, type ServiceType } from './generation-types';

/**
 * The generation request's extra rule on top of workflow validation: a service task type the request did not
 * allow is an error at its `type`, parallel sub-tasks included.
 */
export function checkRequiredServices(candidate: unknown, services: readonly ServiceType[]): ErrorDetail[] {
  const tasks = (candidate as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(tasks)) return [];
  const errors: ErrorDetail[] = [];
  const allowed = services.length > 0 ? services.join(', ') : 'none';
  const check = (type: unknown, pointer: string) => {
    if (typeof type === 'string' && (SERVICE_TYPES as readonly string[]).includes(type)) {
      if (!services.includes(type as ServiceType)) {
        errors.push({ pointer, message: `task type '${type}' is not allowed: required_services is ${allowed}` });
      }
    }
  };
  tasks.forEach((task, i) => {
    if (!task || typeof task !== 'object') return;
    const { type, parameters } = task as { type?: unknown; parameters?: unknown };
    check(type, `/tasks/${i}/type`);
    if (!parameters || typeof parameters !== 'object') return;
    const { tasks: subTasks, task: subTask } = parameters as { tasks?: unknown; task?: unknown };
    if (Array.isArray(subTasks)) {
      subTasks.forEach((sub, j) => {
        check((sub as { type?: unknown } | null)?.type, `/tasks/${i}/parameters/tasks/${j}/type`);
      });
    }
    if (subTask && typeof subTask === 'object') {
      check((subTask as { type?: unknown }).type, `/tasks/${i}/parameters/task/type`);
    }
  });
  return errors;
}

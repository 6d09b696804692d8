import { ScheduleManager } from '@orch/engine';
import { checkRequest, scheduleBody } from '../request-schemas';
import { prepareWithTaskTypes } from '../workflow-request';
import type { Handler, HandlerDeps } from './handler';

const managers = new WeakMap<object, ScheduleManager>();
function schedules(deps: HandlerDeps): ScheduleManager {
  let manager = managers.get(deps.engine);
  if (!manager) {
    manager = new ScheduleManager(deps.engine, deps.logger);
    managers.set(deps.engine, manager);
  }
  return manager;
}

/**
 * `POST /api/v1/schedules`: creates or replaces a cron schedule. The workflow (template or inline) and its variables
 * are validated now, so a schedule never starts firing runs that cannot start.
 */
export const createSchedule: Handler = async (input, deps) => {
  const spec = checkRequest(scheduleBody, input.body, 'request body');
  await prepareWithTaskTypes(
    deps.engine,
    { workflow_template: spec.workflow_template, workflow: spec.workflow, variables: spec.variables },
    deps.catalog,
  );
  const schedule = await schedules(deps).upsert(spec);
  deps.logger.info('schedule saved', { schedule: spec.id, cron: spec.cron });
  return { status: 201, body: schedule };
};

export const listSchedules: Handler = async (_input, deps) => ({
  status: 200,
  body: { schedules: await schedules(deps).list() },
});

export const getSchedule: Handler = async (input, deps) => {
  const id = input.params.id as string;
  const manager = schedules(deps);
  return { status: 200, body: { ...(await manager.get(id)), firings: await manager.firings(id, 20) } };
};

export const deleteSchedule: Handler = async (input, deps) => {
  await schedules(deps).remove(input.params.id as string);
  deps.logger.info('schedule deleted', { schedule: input.params.id });
  return { status: 204, body: undefined };
};

export const pauseSchedule: Handler = async (input, deps) => ({
  status: 200,
  body: await schedules(deps).pause(input.params.id as string),
});

export const resumeSchedule: Handler = async (input, deps) => ({
  status: 200,
  body: await schedules(deps).resume(input.params.id as string),
});

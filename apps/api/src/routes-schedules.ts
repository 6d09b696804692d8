import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  pauseSchedule,
  resumeSchedule,
} from './handlers/schedules';
import { scheduleBody } from './request-schemas';
import { error, invalid, json, type RouteSpec } from './route-spec';

const noSchedule = error('No schedule with this id');

/** Cron schedules: BullMQ job schedulers that start runs. */
export const SCHEDULE_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/api/v1/schedules',
    operationId: 'createSchedule',
    summary:
      'Create or replace a cron schedule that starts a workflow; each firing has correlation id <id>:<fire time>',
    description:
      'The workflow (template or inline) and its variables are validated now, so a schedule never fires runs that ' +
      'cannot start. Any number of workers fire each tick once; with `overlap: skip` (the default) a firing while ' +
      'the last run is still active is recorded as skipped.',
    tag: 'schedules',
    handler: createSchedule,
    scope: 'admin',
    body: scheduleBody,
    responses: { 201: json('The schedule', 'Schedule'), 400: invalid },
  },
  {
    method: 'get',
    path: '/api/v1/schedules',
    operationId: 'listSchedules',
    summary: 'Every schedule with its next run, counters and last run',
    description: 'Schedules created through the API and those templates declare (`template.<id>`), by id.',
    tag: 'schedules',
    handler: listSchedules,
    scope: 'read',
    responses: { 200: json('The schedules', 'ScheduleList') },
  },
  {
    method: 'get',
    path: '/api/v1/schedules/:id',
    operationId: 'getSchedule',
    summary: 'One schedule with its latest firings (started or skipped)',
    description: 'The schedule, and its latest 20 firings with the run each started or why it was skipped.',
    tag: 'schedules',
    handler: getSchedule,
    scope: 'read',
    responses: { 200: json('The schedule', 'ScheduleDetail'), 404: noSchedule },
  },
  {
    method: 'delete',
    path: '/api/v1/schedules/:id',
    operationId: 'deleteSchedule',
    summary: 'Delete a schedule; runs it started are kept',
    description: 'Removes the schedule and its firing history; the runs it started are kept until they expire.',
    tag: 'schedules',
    handler: deleteSchedule,
    scope: 'admin',
    responses: { 204: { description: 'Deleted' }, 404: noSchedule },
  },
  {
    method: 'post',
    path: '/api/v1/schedules/:id/pause',
    operationId: 'pauseSchedule',
    summary: 'Stop firing until resumed',
    description: 'A paused schedule keeps its counters and has no `next_run_at`. Pausing a paused one changes nothing.',
    tag: 'schedules',
    handler: pauseSchedule,
    scope: 'admin',
    responses: { 200: json('The schedule', 'Schedule'), 404: noSchedule },
  },
  {
    method: 'post',
    path: '/api/v1/schedules/:id/resume',
    operationId: 'resumeSchedule',
    summary: 'Fire again from the next tick',
    description: 'Firings missed while paused are not made up. Resuming a running schedule changes nothing.',
    tag: 'schedules',
    handler: resumeSchedule,
    scope: 'admin',
    responses: { 200: json('The schedule', 'Schedule'), 404: noSchedule },
  },
];

import { count, object, openObject, ref, str, time } from './parts';

/** Response schemas of cron schedules. */

const scheduleFields = {
  id: str,
  cron: str,
  timezone: str,
  workflow_template: str,
  workflow: ref('Workflow'),
  variables: openObject('Variables of every run it starts'),
  overlap: { type: 'string', enum: ['skip', 'allow'] },
  paused: { type: 'boolean' },
  source: { type: 'string', description: '`api`, or `template:<id>` for a schedule a template declares' },
  created_at: time,
  next_run_at: { ...time, description: 'Absent while paused' },
  last_fired_at: time,
  last_execution_id: str,
  fired: { ...count, description: 'Firings that started a run' },
  skipped: { ...count, description: 'Firings skipped because the last run was still active (overlap: skip)' },
};
const optional = [
  'timezone',
  'workflow_template',
  'workflow',
  'variables',
  'next_run_at',
  'last_fired_at',
  'last_execution_id',
];

const firing = object(
  {
    fired_at: time,
    execution_id: { type: 'string', description: 'The run it started' },
    skipped: { type: 'string', description: 'Why it started none' },
  },
  ['execution_id', 'skipped'],
);

export const SCHEDULE_SCHEMAS = {
  Schedule: object(scheduleFields, optional, 'A cron schedule that starts a workflow'),
  ScheduleList: object({ schedules: { type: 'array', items: ref('Schedule') } }),
  ScheduleDetail: object(
    { ...scheduleFields, firings: { type: 'array', items: firing, description: 'The latest 20, newest first' } },
    optional,
    'A schedule with its latest firings',
  ),
} as const;

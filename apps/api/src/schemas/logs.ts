import { ATTEMPT_ENDINGS, TASK_LOG_LEVELS, TASK_LOG_STREAMS } from '@orch/run-model';
import { bool, object, ref, str, time } from './parts';

/** Response schemas of task logs: one attempt's lines, as a page or as Server-Sent Events. */

const ending = {
  type: 'string',
  enum: [...ATTEMPT_ENDINGS],
  description: 'How the attempt ended, as its log says (`retrying`: it failed and will be retried)',
};
const attempt = { type: 'integer', minimum: 1 } as const;

export const LOG_SCHEMAS = {
  TaskLogLine: object(
    {
      id: { type: 'string', description: 'The Redis stream id, also the SSE `id`: send it as Last-Event-ID to resume' },
      at: time,
      stream: {
        type: 'string',
        enum: [...TASK_LOG_STREAMS],
        description: "`log`: the handler's ctx.log; `stdout`/`stderr`: a command's output",
      },
      level: { type: 'string', enum: [...TASK_LOG_LEVELS] },
      message: str,
    },
    [],
    'One line of a task attempt’s log',
  ),
  TaskLogPage: object(
    {
      execution_id: str,
      task: { type: 'string', description: 'The task id; a parallel task’s item is `<task>[<index>]`' },
      attempt,
      attempts: { type: 'array', items: attempt, description: 'The attempts of the task that have a log' },
      lines: { type: 'array', items: ref('TaskLogLine') },
      ended: { ...bool, description: 'The attempt is over: no more lines will come' },
      ending,
      capped: {
        ...bool,
        description: 'The attempt reached TASK_LOG_MAX_BYTES: a marker line says so and later lines were dropped',
      },
      next_after: { type: 'string', description: 'More lines follow: pass this as `after` for the next page' },
    },
    ['ending', 'next_after'],
    'One page of a task attempt’s log, oldest line first',
  ),
  TaskLogEvent: {
    description:
      'The `data` of one Server-Sent Event of `GET .../tasks/{task}/logs?follow=true`: a TaskLogLine (`event: line`), then a TaskLogEnd (`event: end`) once the attempt is over',
    oneOf: [ref('TaskLogLine'), ref('TaskLogEnd')],
  },
  TaskLogEnd: object({ attempt, ending }, ['ending'], 'The last message of a followed log: the attempt is over'),
};

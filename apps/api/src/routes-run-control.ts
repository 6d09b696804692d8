import { approveTask, pauseWorkflow, rejectTask, resumeWorkflow } from './handlers/run-control';
import { decisionBody } from './request-schemas';
import { error, invalid, json, notFound, type RouteSpec } from './route-spec';

const decided = error('Not an approval task, already decided, or already finished');

/** Runs: pause, resume, and approval decisions. */
export const RUN_CONTROL_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/api/v1/workflows/:id/pause',
    operationId: 'pauseWorkflow',
    summary: 'Pause a running run: no task starts until resume; running tasks finish; the timeout keeps counting',
    description:
      'While paused no task starts (a queued task is parked), running tasks finish, and the workflow timeout keeps ' +
      'counting. Pausing a paused run is not an error: it answers 200 with `status: paused`, so a client may ' +
      'repeat a pause whose answer it lost. A run that is pending or has ended is a 409.',
    tag: 'workflows',
    handler: pauseWorkflow,
    scope: 'run',
    responses: {
      200: json('The run is paused (or already was)', 'RunControlResult'),
      404: notFound,
      409: error('The run is pending, ending or ended: only a running run can be paused'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/resume',
    operationId: 'resumeWorkflow',
    summary: 'Resume a paused run: whatever became ready starts',
    description: 'Releases the tasks that became ready while the run was paused. A run that is not paused is a 409.',
    tag: 'workflows',
    handler: resumeWorkflow,
    scope: 'run',
    responses: {
      200: json('The run is running again', 'RunControlResult'),
      404: notFound,
      409: error('The run is not paused'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/tasks/:task/approve',
    operationId: 'approveTask',
    summary: 'Approve an approval task; `payload` becomes its output',
    description:
      "The first decision wins. It is recorded under the calling key's name; an approval task's `approvers` are " +
      'the key names that may decide it (any other key gets 403).',
    tag: 'workflows',
    handler: approveTask,
    scope: 'run',
    body: decisionBody,
    bodyOptional: true,
    responses: {
      200: json('The decision was recorded', 'DecisionResult'),
      400: invalid,
      403: error("The key is not among the task's `approvers`, or `by` names another key"),
      404: error('No such run or task'),
      409: decided,
    },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/tasks/:task/reject',
    operationId: 'rejectTask',
    summary: 'Reject an approval task; it fails with the reason',
    description: 'The first decision wins; the task fails, quoting `reason`. Who may decide is as for approve.',
    tag: 'workflows',
    handler: rejectTask,
    scope: 'run',
    body: decisionBody,
    bodyOptional: true,
    responses: {
      200: json('The decision was recorded', 'DecisionResult'),
      400: invalid,
      403: error("The key is not among the task's `approvers`, or `by` names another key"),
      404: error('No such run or task'),
      409: decided,
    },
  },
];

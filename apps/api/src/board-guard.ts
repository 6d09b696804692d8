import { dashboardQueues, type WorkflowEngine } from '@orch/engine';
import { OrchestratorError } from '@orch/errors';
import type { Logger } from '@orch/logger';
import { isFinalStatus } from '@orch/run-model';
import { Job, type Queue } from 'bullmq';
import type { RequestHandler } from 'express';

/** Queue-level switches that change how fast jobs run, not what a run is: left to the operator. */
const ALLOWED =
  /^\/api\/queues(\/[^/]+)?\/(pause|resume)$|^\/api\/queues\/[^/]+\/(concurrency|rate-limit(\/release)?)$/i;
const JOB_ACTION =
  /^\/api\/queues\/([^/]+)\/([^/]+)\/(retry|clean|promote|update-data|delay|priority|remove-unprocessed-children)$/i;

const WHY: Record<string, string> = {
  retry:
    "Bull Board's retry re-queues a job behind the engine's back (the run's record would not change); retry the run with POST /api/v1/workflows/{id}/retry, which reuses the outputs of its completed tasks",
  promote: 'promoting a job wakes a parked task (a delay, an approval, a paused run) out of turn',
  'update-data': "editing a job's data changes what a run's task does behind the engine's back",
  delay: "changing a job's delay moves a parked task's wake-up behind the engine's back",
  priority: "the engine orders a run's tasks itself",
  'remove-unprocessed-children': "removing a job's children drops tasks of a run without recording them",
};

/**
 * Bull Board's write actions for admin keys, minus those that would corrupt a run: the engine's bookkeeping (a run's
 * record, fan-in counters, deadlines, parked jobs) lives beside the jobs, so editing, retrying, adding or deleting
 * jobs of a live run by hand leaves the two disagreeing. Allowed: pausing and resuming queues, concurrency and rate
 * limits, and deleting a job whose run has ended or expired. Everything else answers 409 with the reason and what
 * to use instead.
 */
export function boardGuard(engine: WorkflowEngine, logger: Logger): RequestHandler {
  return (req, _res, next) => {
    // Matched as Express routes them: case-insensitively, a trailing slash ignored.
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    if (req.method === 'GET' || req.method === 'HEAD' || ALLOWED.test(path)) return next();
    refusal(engine, path).then(
      (reason) => {
        if (!reason) return next();
        logger.warn('refused a Bull Board action', { method: req.method, path: req.path, reason });
        next(new OrchestratorError('CONFLICT', `refused: ${reason}`));
      },
      (error: unknown) => next(error),
    );
  };
}

async function refusal(engine: WorkflowEngine, path: string): Promise<string | undefined> {
  const job = JOB_ACTION.exec(path);
  if (!job) return queueRefusal(path);
  const [, queueName, rawId, rawAction] = job as unknown as [string, string, string, string];
  const action = rawAction.toLowerCase();
  const queue = dashboardQueues(engine).find((q) => q.name === decodeURIComponent(queueName))?.queue;
  if (!queue) return undefined; // bull-board answers 404 itself
  const jobId = decodeURIComponent(rawId);
  if (action !== 'clean') return (WHY[action] as string).replace('{id}', await runOf(queue, jobId));
  if (queue.name === 'control') {
    return "the control queue holds the engine's own jobs (recovery passes, schedules, pause holds); removing one breaks what it stands for";
  }
  const run = await runOf(queue, jobId);
  const status = await engine.status(run);
  if (status === undefined || isFinalStatus(status)) return undefined;
  return `job ${jobId} belongs to run ${run}, which is ${status}: deleting it would leave the run waiting forever; cancel the run (POST /api/v1/workflows/${run}/cancel) and its jobs go with it`;
}

function queueRefusal(path: string): string {
  if (/\/add$/i.test(path))
    return 'jobs added by hand are not part of any run the engine knows; submit a workflow instead';
  if (/\/(retry|promote)(\/[^/]+)?$/i.test(path))
    return "retrying or promoting jobs in bulk re-runs tasks behind the engine's back; retry runs with POST /api/v1/workflows/{id}/retry";
  if (/\/(clean\/[^/]+|empty|obliterate)$/i.test(path))
    return "cleaning, emptying or obliterating a queue deletes jobs of live runs; finished runs' jobs expire with EXECUTION_TTL";
  if (/\/job-schedulers\//i.test(path))
    return "the engine's recovery and schedules are its job schedulers; manage schedules with /api/v1/schedules";
  return "this action would change jobs behind the engine's back";
}

/** The run a job belongs to: a workflow job's id is the run's, a task job names its run in `data.e`. */
async function runOf(queue: Queue, jobId: string): Promise<string> {
  if (queue.name === 'workflows') return jobId;
  const job = queue.name.startsWith('tasks') ? await Job.fromId<{ e?: string }>(queue, jobId) : undefined;
  return job?.data?.e ?? jobId.split('.')[0] ?? jobId;
}

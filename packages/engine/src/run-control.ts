import { DECISION_NOTE } from '@orch/core';
import { NotFoundError, OrchestratorError } from '@orch/errors';
import { type ApprovalDecision, type ExecutionStatus, publicStatus } from '@orch/run-model';
import { checkApprover } from './approvers';
import { sourceOf } from './definition-lookups';
import type { EngineContext } from './engine-context';
import { queueOf, taskOf } from './execution-definition';
import type { RunKernel } from './run-kernel';
import { jobIds } from './task-job';

/** What users do to a running run besides cancelling it: pause, resume, and decide approvals. */
export class RunControl {
  constructor(
    private readonly ctx: EngineContext,
    private readonly kernel: RunKernel,
  ) {}

  /**
   * Pauses a running run: no task starts (queued ones are parked as delayed jobs), running ones finish, and a parked
   * `hold` child keeps the workflow job from ending the run meanwhile. The workflow timeout keeps counting.
   */
  async pause(id: string): Promise<ExecutionStatus> {
    const { store, logger } = this.ctx;
    const status = await store.status(id);
    if (!status) throw new NotFoundError('execution', id);
    if (status === 'paused') return 'paused';
    if (status === 'exiting') {
      throw new OrchestratorError('CONFLICT', `execution ${id} is running its exit handlers; they cannot be paused`);
    }
    if (status !== 'running') {
      throw new OrchestratorError(
        'CONFLICT',
        `execution ${id} is ${publicStatus(status)}; only a running run can be paused`,
      );
    }
    const n = await store.nextPause(id);
    await store.setStatus(id, 'paused', 'workflow.paused');
    await this.kernel.hold(id, n);
    logger.info('workflow paused', { execution_id: id });
    return 'paused';
  }

  /** Resumes a paused run: releases what became ready while paused, un-parks queued tasks, then drops the hold. */
  async resume(id: string): Promise<ExecutionStatus> {
    const { store, queues, logger } = this.ctx;
    const status = await store.status(id);
    if (!status) throw new NotFoundError('execution', id);
    if (status !== 'paused') {
      throw new OrchestratorError(
        'CONFLICT',
        `execution ${id} is ${publicStatus(status)}; only a paused run can be resumed`,
      );
    }
    await store.setStatus(id, 'running', 'workflow.resumed');
    const def = await store.definition(id);
    const ready = await store.readyTasks(def);
    const jobs = await Promise.all(ready.map((t) => queues.taskJob(jobIds.task(id, t), queueOf(def, t))));
    await this.kernel.release(
      def,
      ready.filter((_, i) => !jobs[i]),
    );
    await this.kernel.unpark(id);
    logger.info('workflow resumed', { execution_id: id });
    return 'running';
  }

  /**
   * Records the decision on an approval task (the first decision wins) and wakes its job. The payload becomes the
   * task's output when approved; `payload.reason` is quoted in the error when rejected.
   */
  async decide(
    id: string,
    taskId: string,
    decision: 'approve' | 'reject',
    payload?: unknown,
    by?: string,
  ): Promise<ApprovalDecision> {
    const { store, queues } = this.ctx;
    const def = await store.definition(id).catch(() => {
      throw new NotFoundError('execution', id);
    });
    const task = taskOf(def, taskId);
    if (!task) throw new NotFoundError('task', taskId);
    if (task.type !== 'approval')
      throw new OrchestratorError('CONFLICT', `task ${taskId} is a ${task.type} task, not an approval`);
    checkApprover(sourceOf(def, taskId).parameters, taskId, by);
    if (await store.isFinished(id, taskId)) {
      throw new OrchestratorError('CONFLICT', `task ${taskId} has already finished`);
    }
    const record: ApprovalDecision = { decision, at: new Date().toISOString() };
    if (payload !== undefined) record.payload = payload;
    if (by) record.by = by;
    if (!(await store.setNoteOnce(id, DECISION_NOTE, taskId, JSON.stringify(record)))) {
      throw new OrchestratorError('CONFLICT', `task ${taskId} has already been decided`);
    }
    await store.appendEvent(id, decision === 'approve' ? 'task.approved' : 'task.rejected', { task: taskId, by });
    await queues.wake(jobIds.task(id, taskId), queueOf(await store.definition(id), taskId));
    return record;
  }
}

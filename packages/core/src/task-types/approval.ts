import { PermanentTaskError } from '@orch/errors';
import { defineTaskType, simulatedParameters } from './task-type';

/** How long an approval task waits for a decision when it declares no timeout. */
export const APPROVAL_TIMEOUT_MS = 7 * 24 * 3_600_000;

/** The task note a decision is stored in (`POST .../approve|reject` writes it; the first one wins). */
export const DECISION_NOTE = 'approval';

interface Decision {
  decision: 'approve' | 'reject';
  payload?: unknown;
  by?: string;
  at: string;
}

const schema = {
  type: 'object',
  properties: {
    message: { type: 'string' },
    approvers: { type: 'array', items: { type: 'string' } },
  },
} as const;

/**
 * An approval parks its job until a decision promotes it (or its `timeout` passes; without one, after 7 days). The decision is
 * stored first, so one made before the job runs is found on its first run.
 */
export const approval = defineTaskType<'approval', typeof schema, 'control', { until: number }>({
  name: 'approval',
  kind: 'control',
  description:
    'Wait, holding no worker, until someone approves or rejects through the API (the payload becomes the output), or the task times out.',
  schema,
  run: {
    kind: 'control',
    async run(_input, job, context) {
      const raw = await context.note(DECISION_NOTE);
      if (raw) {
        const decision = JSON.parse(raw) as Decision;
        if (decision.decision === 'approve')
          return { approved: true, by: decision.by ?? null, at: decision.at, payload: decision.payload ?? null };
        const reason = (decision.payload as { reason?: unknown } | undefined)?.reason;
        throw new PermanentTaskError(
          `rejected${decision.by ? ` by ${decision.by}` : ''}${typeof reason === 'string' ? `: ${reason}` : ''}`,
        );
      }
      // Parked until the decision wakes it, looking again every few seconds (a decision made between the read above
      // and the park would wake nothing). With a timeout, the engine ends the attempt when it passes (timed out,
      // retried per the task's policy); without one, after APPROVAL_TIMEOUT_MS.
      if (context.timeoutMs !== undefined) return job.park();
      const until = job.state.until ?? Date.now() + APPROVAL_TIMEOUT_MS;
      if (job.state.until === undefined) await job.save({ until });
      if (Date.now() >= until) throw new PermanentTaskError(`no decision within ${APPROVAL_TIMEOUT_MS} ms`);
      return job.park();
    },
  },
  waitingFor: (parameters, note) =>
    note(DECISION_NOTE) === undefined
      ? {
          kind: 'approval',
          message: parameters.message as string | undefined,
          approvers: parameters.approvers as string[] | undefined,
        }
      : undefined,
  simulate(task, at, sim) {
    simulatedParameters(task, at, sim);
    // A dry run approves without asking anyone, so the rest of the workflow can be checked.
    return { approved: true, by: 'dry-run', payload: null };
  },
});

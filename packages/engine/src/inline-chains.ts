import type { Logger } from '@orch/logger';
import { type Job, UnrecoverableError } from 'bullmq';
import { AttemptLog } from './attempt-log';
import type { EngineContext } from './engine-context';
import { type Carry, dropBranches } from './inline-continuation';
import { endingOf, outcomeOf } from './job-outcome';
import { lockLost } from './task-errors';
import type { TaskJobData } from './task-job';
import type { TaskObserver, TaskOutcome } from './task-observer';
import type { TaskRunner } from './task-runner';

/** The tasks a job carries after its own (inline continuation): its chain and the branches beside it. */
export class InlineChains {
  constructor(
    private readonly ctx: EngineContext,
    private readonly runner: TaskRunner,
    private readonly logger: Logger,
    private readonly observer: TaskObserver | undefined,
  ) {}

  /**
   * Runs the dependents the carrier's completions chose in the carrier job (inline continuation): `next` one after
   * another, and each branch beside them, as a chain of its own in a slot borrowed for it. Each task is journaled
   * as an attempt of its own (log, observer); its failure is recorded by the runner and ends its chain, not the
   * carrier. Returns once every branch has; throws only when the carrier's lock is lost: the job then stalls and its
   * re-run replays the chains.
   */
  async run(carrier: Job, token: string | undefined, signal: AbortSignal | undefined, carry: Carry): Promise<void> {
    const branches: Promise<void>[] = [];
    const fork = () => {
      for (const taskId of carry.branches?.splice(0) ?? []) {
        const branch: Carry = { inline: true, carrier: carry.carrier, next: taskId, slots: carry.slots };
        branch.root = carry.root ?? carry;
        // Started by the completion that chose it: its attempt goes on from that start.
        const reply = carry.primed?.get(taskId);
        if (reply) {
          branch.started = { taskId, reply };
          carry.primed?.delete(taskId);
        }
        branches.push(this.run(carrier, token, signal, branch).finally(() => carry.slots?.giveBack()));
      }
    };
    let lost: { error: unknown } | undefined;
    try {
      fork();
      await this.runChain(carrier, token, signal, carry, fork);
    } catch (error) {
      lost = { error };
    }
    // The job ends only once every branch has: a lost lock leaves them running, their records still count.
    dropBranches(carry);
    const failed = (await Promise.allSettled(branches)).find((r) => r.status === 'rejected');
    if (lost) throw lost.error;
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** `carry.next`, one after another, forking the branches each completion chose. */
  private async runChain(
    carrier: Job,
    token: string | undefined,
    signal: AbortSignal | undefined,
    carry: Carry,
    fork: () => void,
  ): Promise<void> {
    const e = (carrier.data as TaskJobData).e;
    while (carry.next !== undefined) {
      const taskId = carry.next;
      carry.next = undefined;
      const type = this.observer ? ((await this.ctx.store.definition(e)).tasks[taskId]?.type ?? 'unknown') : 'unknown';
      this.observer?.jobStarted?.({ type, attempt: 1, waitedMs: 0 });
      const at = performance.now();
      // Made for the attempt the start records: 1, or the next after an attempt its lost carrier left running.
      let log: AttemptLog | undefined;
      const logOf = (attempt: number) => {
        log = new AttemptLog(this.ctx.logs, e, taskId, attempt, () => this.logger);
        return log;
      };
      let outcome: TaskOutcome = 'completed';
      try {
        outcome = await this.runner.runInline(carrier, taskId, token, signal, logOf, carry);
      } catch (error) {
        outcome = outcomeOf(error);
        if (lockLost(error)) throw error;
        if (!(error instanceof UnrecoverableError)) {
          this.logger.warn('inline task ended unexpectedly', { execution_id: e, task_id: taskId });
        }
      } finally {
        const ending = endingOf(outcome);
        if (ending && log) await (log as AttemptLog).end(ending);
        this.observer?.jobEnded?.({ type, attempt: 1, outcome, durationMs: performance.now() - at });
      }
      fork();
    }
  }
}

/**
 * Every Redis key and channel the orchestrator uses (BullMQ builds its own from the queue prefix).
 *
 * One RedisKeys per partition (`Partitions`). With a partition tag, the partition's runs, its claims and its
 * admission, deadline, index and counter keys all carry `{<tag>}`, as do its BullMQ queues (`bullPrefix`): every
 * script and MULTI touches one slot, on a Redis Cluster too. Without one (a standalone Redis with one partition)
 * each run's keys carry `{<id>}` and the rest `{g}`. Keys shared by all partitions (schedules, workers, SDK task
 * types, bus error claims) always carry `{g}`; nothing writes them together with a run's.
 */
export class RedisKeys {
  constructor(
    readonly prefix = 'orch',
    /** The partition's hash tag (`Partitions.tag`); none in the untagged standalone layout. */
    readonly tag?: string,
  ) {}

  /** BullMQ's prefix for this partition's queues: the engine's prefix, with the partition's tag when it has one. */
  get bullPrefix(): string {
    return this.tag === undefined ? this.prefix : `${this.prefix}:{${this.tag}}`;
  }

  private exec(id: string, part: string): string {
    return this.tag === undefined ? `${this.prefix}:x:{${id}}:${part}` : `${this.prefix}:x:{${this.tag}}:${id}:${part}`;
  }

  /** Hash: status, workflow, template, timestamps, error, counts. */
  meta(id: string): string {
    return this.exec(id, 'meta');
  }

  /** String: the compiled workflow (JSON), immutable once written. */
  def(id: string): string {
    return this.exec(id, 'def');
  }

  /** Hash: task id -> JSON state (status, attempts, timings, error). */
  tasks(id: string): string {
    return this.exec(id, 'tasks');
  }

  /** Hash: task id -> terminal status. Written once per task (HSETNX): the completion record. */
  finished(id: string): string {
    return this.exec(id, 'fin');
  }

  /** Hash: task id -> output JSON, the checkpoint dependents read. Written once per task. */
  outputs(id: string): string {
    return this.exec(id, 'out');
  }

  /** Stream: every state change of the execution, in order. */
  events(id: string): string {
    return this.exec(id, 'events');
  }

  /** Hash: task id -> how many of its dependencies have not finished; the fan-in counter the release script uses. */
  waits(id: string): string {
    return this.exec(id, 'waits');
  }

  /**
   * Set: what holds one of a concurrency gate's slots: the run's (`gate` '*', the workflow's `max_concurrency`) or a
   * parallel task's (`gate` its id, the task's `max_concurrency`). Members are task ids and `<task>.<attempt>.<item>`.
   * Only runs with a limit have these.
   */
  gateSlots(id: string, gate: string): string {
    return this.exec(id, `gate:${gate}:slots`);
  }

  /** Sorted set: what waits for one of the gate's slots, by when it first asked (first come, first served). */
  gateQueue(id: string, gate: string): string {
    return this.exec(id, `gate:${gate}:queue`);
  }

  /** A gate's slots and queue. */
  gateKeys(id: string, gate: string): [string, string] {
    return [this.gateSlots(id, gate), this.gateQueue(id, gate)];
  }

  /**
   * Hash: `<task>:<attempt>` -> bytes that attempt's log holds (more than the cap once the cap was hit): the index of
   * the run's task logs, which the run's end gives the run's TTL with each log it names.
   */
  taskLogs(id: string): string {
    return this.exec(id, 'logs');
  }

  /** Stream: one task attempt's log lines (handler lines, a command's stdout and stderr), then how it ended. */
  taskLog(id: string, task: string, attempt: number): string {
    return this.exec(id, `log:${task}:${attempt}`);
  }

  /** The keys of the task scripts, in their KEYS order: meta, tasks, fin, out, events, waits. */
  taskKeys(id: string): string[] {
    return [this.meta(id), this.tasks(id), this.finished(id), this.outputs(id), this.events(id), this.waits(id)];
  }

  /** All keys of one execution, for EXPIRE and cleanup. */
  executionKeys(id: string): string[] {
    return [...this.taskKeys(id), this.def(id)];
  }

  /** A key of the partition's own (its runs' claims, admission, deadlines, index, counters). */
  private global(part: string): string {
    return `${this.prefix}:g:{${this.tag ?? 'g'}}:${part}`;
  }

  /** A key all partitions share. */
  private shared(part: string): string {
    return `${this.prefix}:g:{g}:${part}`;
  }

  /**
   * Hash `{execution_id, fingerprint}`: a client's correlation id (an idempotency key), in the space of the API key
   * name that sent it (`submitter`; none for an open API and the message bus), with the run's TTL. Names are
   * percent-encoded, so no name and id can spell another pair's key; engine-made ids live apart (`engineClaim`).
   */
  clientClaim(submitter: string | undefined, correlationId: string): string {
    const owner = submitter === undefined ? '-' : `k.${encodeURIComponent(submitter)}`;
    return this.global(`idem:c:${owner}:${correlationId}`);
  }

  /**
   * Hash `{execution_id}`: an id the engine makes itself, out of every client's reach: a sub-workflow's
   * `<parent>.<task>.<attempt>` (`child`) or a schedule firing's `<schedule>:<fire time>` (`schedule`).
   */
  engineClaim(kind: 'child' | 'schedule', id: string): string {
    return this.global(`idem:e:${kind}:${id}`);
  }

  /**
   * Sorted set: admitted runs by the epoch ms after which, if no worker has seen their first jobs queued, they count
   * as orphaned (the process creating them died in between); swept by the workers every second.
   */
  starting(): string {
    return this.global('starting');
  }

  /** Set: executions holding one of the MAX_CONCURRENT_WORKFLOWS slots. */
  active(): string {
    return this.global('active');
  }

  /** List: executions waiting for a slot, oldest first. */
  pending(): string {
    return this.global('pending');
  }

  /** Sorted set: running executions scored by the epoch ms at which they time out (swept by the workers). */
  deadlines(): string {
    return this.global('deadlines');
  }

  /** Sorted set: execution id by creation time, newest last; for listing. */
  index(): string {
    return this.global('index');
  }

  /** Hash: counters of recovery actions, for /status and /metrics (summed over partitions). */
  counters(): string {
    return this.global('counters');
  }

  /** Hash: schedule id -> its definition and counters. */
  schedules(): string {
    return this.shared('schedules');
  }

  /** List: a schedule's latest firings, newest first (capped). */
  scheduleFirings(id: string): string {
    return this.shared(`schedule-firings:${id}`);
  }

  /** String claimed (SET NX) by the one API replica that answers a malformed bus message, which all receive. */
  busError(messageDigest: string): string {
    return this.shared(`bus-error:${messageDigest}`);
  }

  /** Hash: worker name -> its latest heartbeat (JSON: host, pid, queues, task types, active jobs, ...). */
  workers(): string {
    return this.shared('workers');
  }

  /** Hash: task type name -> what the SDK worker that registered it declared (JSON: schema, queue, worker). */
  taskTypes(): string {
    return this.shared('task-types');
  }

  /** Pub/sub channel on which workers learn that an execution must stop. */
  abortChannel(): string {
    return `${this.prefix}:abort`;
  }

  /** Pub/sub channel with one message per finished run: `{execution_id, status, correlation_id}`. */
  finishedChannel(): string {
    return `${this.prefix}:finished`;
  }
}

/**
 * A field of a run's `tasks` hash that holds a note a task type keeps beside the task's state (`@approval:<task>`
 * for an approval's decision, `@child:<task>` for a sub-workflow's child run), so it expires with the run.
 */
export const taskNoteField = (note: string, task: string): string => `@${note}:${task}`;

/** Queue names; BullMQ prefixes them with QUEUE_PREFIX. */
export const QUEUES = {
  /** One job per execution, the parent of its task jobs; it runs when they are all done and finalises the run. */
  workflows: 'workflows',
  /** Task jobs and parallel sub-task jobs. */
  tasks: 'tasks',
  /** Recovery passes, schedules, pause holds. */
  control: 'control',
} as const;

/** The BullMQ queue of a task queue (`queue:`): `default` is the `tasks` queue, any other `tasks-<name>`. */
export function taskQueueName(queue: string | undefined): string {
  return queue === undefined || queue === 'default' ? QUEUES.tasks : `${QUEUES.tasks}-${queue}`;
}

import type { ErrorDetail } from '@orch/errors';
import type { TaskLogLevel, TaskLogStream } from '@orch/run-model';
import type { Span } from '@orch/tracing';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * The fields of a task as written that its type reads (a structural view of the model's TaskDefinition, which
 * names its type from this catalog).
 */
export interface TaskSource {
  id: string;
  type: string;
  parameters?: Record<string, unknown>;
  condition?: string;
}

/** A parallel sub-task as written. */
export interface SubTaskSource {
  type: string;
  parameters?: Record<string, unknown>;
  timeout?: number | string;
}

/** What a handler may log through: the run's ids ride on every line. */
export interface TaskLogger {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** What a handler knows about the attempt it runs in. */
export interface TaskContext {
  executionId: string;
  taskId: string;
  correlationId?: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Fires when the attempt times out, or the run is cancelled, times out or fails fast. Pass it on to I/O. */
  signal: AbortSignal;
  /** Epoch ms at which this attempt times out, when the task has a timeout. */
  deadline?: number;
  /** The worker's own log (stdout, JSON lines), with the run's ids on every line: for operators. */
  logger: TaskLogger;
  /**
   * Writes a line to this attempt's task log, kept with the run (its TTL) and read with `orchestrator logs`, the
   * API's `.../tasks/{task}/logs` and the web view's Logs tab: for the person looking at the run. Returns at once;
   * lines are written in order, in batches, before the attempt's end is recorded. Level `info`, stream `log`
   * unless given (`stdout`/`stderr` for a command's output).
   */
  log(message: string, options?: TaskLogOptions): void;
  /**
   * The attempt's OpenTelemetry span when the worker traces: add attributes or events to it; spans started inside
   * the handler nest under it, and outgoing calls carry it (`propagation.inject(context.active(), headers)` of
   * @opentelemetry/api writes the headers).
   */
  span?: Span;
}

export interface TaskLogOptions {
  level?: TaskLogLevel;
  stream?: TaskLogStream;
}

/**
 * Runs one task attempt. `parameters` have their expressions evaluated and have passed the type's schema. The
 * resolved value is the task's output. Throw `PermanentTaskError` for failures a retry cannot fix; anything else
 * is retried per the task's retry policy.
 */
export type TaskHandler<P = Record<string, unknown>> = (parameters: P, context: TaskContext) => Promise<unknown>;

/** A dry run's tools: expressions resolved against the results so far, failures reported at their pointers. */
export interface Simulation {
  /** Interpolates `value` (failures are reported and come back undefined). */
  resolve(value: unknown, pointer: string): unknown;
  report(pointer: string, message: string): void;
  /** The same simulation with more names in scope (a parallel sub-task's `item` and `index`). */
  with(extra: Record<string, unknown>): Simulation;
  /** Simulates a task of any type (a parallel task's sub-tasks). */
  simulate(task: SimulatedTask, at: string): unknown;
}

/** A task as a dry run sees it: a workflow task, or a parallel sub-task. */
export interface SimulatedTask {
  type: string;
  parameters?: unknown;
  condition?: string;
}

/** The job of a waiting task: its own state in the job's data, and ways to wait without holding a worker. */
export interface WaitingJob<State> {
  readonly id: string;
  readonly state: Readonly<Partial<State>>;
  /** Merges `state` into the job's data, so the next run of the job sees it. */
  save(state: Partial<State>): Promise<void>;
  /**
   * Parks the job as a BullMQ delayed job until `at` (epoch ms), or until the attempt's timeout if that is sooner; it
   * then runs again. Never returns.
   */
  sleepUntil(at: number): Promise<never>;
  /** Parks the job until something wakes it (a child run's end), and a few seconds at most: a wake can miss. Never returns. */
  park(): Promise<never>;
}

/** What a waiting type may do besides waiting: each capability is the engine's, used by the types that need it. */
export interface ControlContext {
  executionId: string;
  taskId: string;
  attempt: number;
  timeoutMs?: number;
  /** 0 for a top-level run. */
  depth: number;
  /** How deep sub-workflows may nest (`MAX_SUBWORKFLOW_DEPTH`). */
  maxDepth: number;
  /** A note kept with the run's task state (an approval's decision, a sub-workflow's child run). */
  note(name: string): Promise<string | undefined>;
  setNote(name: string, value: string): Promise<void>;
  /** True when the worker has a template catalog to find `template` references in. */
  hasTemplates: boolean;
  /**
   * Prepares a catalog template (`id` or `id@version`) or an inline workflow with `variables`, and starts it as a
   * run whose end wakes this task's job; idempotent per correlation id. Returns its id.
   */
  startChildRun(
    source: { template: string } | { workflow: unknown },
    variables: Record<string, unknown>,
    correlationId: string,
  ): Promise<string>;
  /** Cancels a run (a child run this task started); a run that has ended is left as it is. */
  cancelRun(id: string, reason: string): Promise<void>;
  /** A run's status and, once it has ended, its outcome: task outputs and (completed) its result. */
  runOutcome(
    id: string,
  ): Promise<
    | { ended: false }
    | { ended: true; status: string; error?: string; outputs: Record<string, unknown>; result?: unknown }
  >;
  /**
   * Adds sub-task jobs as children of this task's job (idempotently: their ids are deterministic); with
   * `maxConcurrency`, at most that many of them run at once (the others wait parked, holding no worker).
   */
  addSubTasks(subTasks: SubTaskSpec[], maxConcurrency?: number): Promise<void>;
  /** Waits, holding no worker, until every sub-task is done; returns at once when they already are. */
  waitForSubTasks(): Promise<void>;
  /** Once they are done: failed sub-tasks (job id, reason) and the outputs in declared order. */
  subTaskResults(): Promise<{ failures: [string, string][]; outputs: unknown[] }>;
}

/** A parallel sub-task, its parameters resolved. */
export interface SubTaskSpec {
  type: string;
  parameters: Record<string, unknown>;
  timeoutMs?: number;
}

/** What a control type's `run` gets: its parameters (resolved unless it resolves its own) and the run's names. */
export interface ControlInput<P> {
  parameters: P;
  /** The task as written (for types that resolve their parameters themselves). */
  source: TaskSource;
  /** The names the task's expressions may read. */
  scope: Record<string, unknown>;
}

/**
 * How a task type runs:
 * - `service`: a handler the worker supplies (it talks to an external service): the worker's handler table does
 *   not compile without one.
 * - `builtin`: a handler with no side effects, here.
 * - `control`: run by the engine without holding a worker while it waits (a timer, a decision, a child run,
 *   sub-task jobs). `run` is called again each time the job wakes, with the state it saved.
 */
export type TaskRun<P, State> =
  | { kind: 'service' }
  | {
      kind: 'builtin';
      handler: TaskHandler<P>;
      /** Parameters taken from the task's own fields, resolved with the rest (condition's `condition`). */
      extraParameters?(source: TaskSource): Record<string, unknown>;
    }
  | {
      kind: 'control';
      /** Parameters are passed unresolved (`source` and `scope` resolve them), as parallel does per sub-task. */
      resolvesOwnParameters?: boolean;
      run(input: ControlInput<P>, job: WaitingJob<State>, context: ControlContext): Promise<unknown>;
      /**
       * The attempt's `timeout` passed while it waited (the engine ends the attempt as timed out): undo what it
       * started, such as a child run.
       */
      timedOut?(job: WaitingJob<State>, context: ControlContext): Promise<void>;
    };

/** One task type: its parameter schema, how it runs, and its dry-run simulation. */
export type TaskKind = TaskRun<unknown, unknown>['kind'];

export interface TaskTypeModule<
  Name extends string,
  Schema extends JSONSchema,
  Kind extends TaskKind = TaskKind,
  State = Record<never, never>,
> {
  name: Name;
  /** `run.kind`, also here so that types can be told apart without computing their parameter types. */
  kind: Kind;
  description: string;
  /** JSON Schema of `parameters` after their expressions are evaluated. */
  schema: Schema;
  run: Extract<TaskRun<FromSchema<Schema>, State>, { kind: Kind }>;
  /** The output a dry run gives, with no side effects; expression failures go to `sim.report`. */
  simulate(task: SimulatedTask, at: string, sim: Simulation): unknown;
  /** May be a sub-task of `parallel`. */
  subTask?: boolean;
  /**
   * Rules beyond the schema, checked at submit (`pointer` builds pointers under the task; `nested` validates a
   * workflow held in the parameters).
   */
  validate?(
    task: TaskSource,
    pointer: (...path: (string | number)[]) => string,
    nested: NestedValidation,
  ): ErrorDetail[];
  /**
   * Parameters that are a scope of their own (an inline child workflow): the parent neither checks nor evaluates
   * the expressions in them, which belong to whatever runs them (the type's `validate` checks them).
   */
  literalParameters?: readonly string[];
  /** Expressions whose scope is not the task's (parallel's per-item `task`): checked with these extra names. */
  expressionScopes?(parameters: Record<string, unknown>): { value: unknown; path: string[]; names: string[] }[];
  /** Names the type adds to the scope its parameters are evaluated in at run time (http's `env` markers). */
  runScope?(parameters: Record<string, unknown>): Record<string, unknown>;
  /** For the record: what a running task of this type waits on, given its parameters and its notes. */
  waitingFor?(parameters: Record<string, unknown>, note: (name: string) => string | undefined): WaitingFor | undefined;
  /** Branches: a `condition` task's `on_success`/`on_failure` follow its output's `result`. */
  branches?: boolean;
  /**
   * A control type that holds a slot of its run's `max_concurrency` while it runs, as every service and builtin type
   * does: a sub-workflow (its child run is this run's work). The others hold none: a parallel task's items hold
   * slots instead of it, and delays and approvals wait on time and people.
   */
  holdsSlot?: boolean;
}

/** What a type's `validate` may use to check a workflow it holds (an inline sub-workflow). */
export interface NestedValidation {
  /** The errors of `doc` as a workflow whose callers supply `inputs`, with pointers under `base`. */
  workflow(doc: unknown, inputs: string[], base: string): ErrorDetail[];
}

export interface WaitingFor {
  kind: 'approval';
  message?: string;
  approvers?: string[];
}

/** Declares a task type; the schema stays a literal type, so the handler's parameters are typed from it. */
export function defineTaskType<
  Name extends string,
  Schema extends JSONSchema,
  Kind extends TaskKind,
  State = Record<never, never>,
>(module: TaskTypeModule<Name, Schema, Kind, State>): TaskTypeModule<Name, Schema, Kind, State> {
  return module;
}

/** The parameters of a task type, as its handler receives them. */
export type ParametersOf<M> = M extends { schema: infer S extends JSONSchema } ? FromSchema<S> : never;

/** Parameters resolved against the dry run's results (failures reported). */
export function simulatedParameters(task: SimulatedTask, at: string, sim: Simulation): Record<string, unknown> {
  return (sim.resolve(task.parameters ?? {}, `${at}/parameters`) ?? {}) as Record<string, unknown>;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient, RedisKeys } from '@orch/redis';
import type { EndingStatus, InternalStatus, TaskFinalStatus } from '@orch/run-model';
import type { AppendLogInput } from './log-entry';
import type { CreateRunArgs, CreateRunReply } from './run-layout';
import type {
  BeginExitInput,
  CompleteTaskInput,
  CompleteTaskReply,
  FinalizeInput,
  FinalizeReply,
  Gate,
  GateMember,
  StartTaskInput,
  StartTaskReply,
} from './script-inputs';
import { completeTaskReply, recordHashes } from './script-inputs';

export type * from './script-inputs';

/** Lua files are named `<command>-<number of KEYS>.lua` and live beside src/ and dist/ in ../lua. */
const FILES = [
  'start-task-5',
  'complete-task-6',
  'retry-task-2',
  'finalize-12',
  'abort-2',
  'admit-2',
  'create-run-13',
  'claim-starting-1',
  'claim-responder-1',
  'release-slot-3',
  'claim-deadlines-1',
  'begin-exit-4',
  'cut-exit-2',
  'gate-enter-6',
  'gate-leave-5',
  'append-log-3',
] as const;
type ScriptFile = (typeof FILES)[number];

type Arg = string | number;
type Command = (...args: Arg[]) => Promise<unknown>;

let sources: Map<ScriptFile, string> | undefined;
const luaFile = (name: string) => readFileSync(join(__dirname, '..', 'lua', `${name}.lua`), 'utf8');
/** Each script's source, a `--@include <name>` line replaced by `lua/<name>.lua` (code two scripts share). */
function loadSources(): Map<ScriptFile, string> {
  sources ??= new Map(
    FILES.map((file) => [file, luaFile(file).replace(/^--@include ([a-z-]+)$/gm, (_, name: string) => luaFile(name))]),
  );
  return sources;
}

/** `create-run-13` is registered as `orch_createRun`. */
const commandOf = (file: ScriptFile) =>
  `orch_${file.slice(0, file.lastIndexOf('-')).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}`;

/** What start-task found: the run's status, a completion recorded before (a replay), and the inputs it reads. */
/**
 * The engine's Lua scripts behind typed calls: named arguments in, typed replies out. Each call builds its own KEYS
 * (from one run's keys, or the global ones) and ARGV in the order the script's header gives, so no caller knows
 * either. Every script touches one run's keys or the global `{g}` ones, never both, except create-run, which writes
 * one run beside the global claim, slots, index and markers (noted in its header).
 */
export class RunScripts {
  private readonly commands = new Map<ScriptFile, Command>();

  constructor(
    client: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    for (const [file, lua] of loadSources()) {
      const numberOfKeys = Number(file.slice(file.lastIndexOf('-') + 1));
      const name = commandOf(file);
      // EVALSHA, falling back to EVAL once per connection.
      if (!(name in client)) client.defineCommand(name, { numberOfKeys, lua });
      const fn = (client as unknown as Record<string, Command>)[name] as Command;
      this.commands.set(file, (...args) => fn.call(client, ...args));
    }
  }

  private run(file: ScriptFile, keys: string[], args: Arg[]): Promise<unknown> {
    return (this.commands.get(file) as Command)(...keys, ...args);
  }

  /** Marks an attempt running and reads its dependencies' statuses and its inputs, in one round trip. */
  async startTask(executionId: string, input: StartTaskInput): Promise<StartTaskReply> {
    const { meta, tasks, finished, outputs, events } = this.runKeys(executionId);
    const reply = (await this.run(
      'start-task-5',
      [meta, tasks, finished, outputs, events],
      this.startBlock(input),
    )) as string[];
    const [runStatus = '', recorded = '', recordedOutput = '', attempt] = reply;
    const result: StartTaskReply = {
      runStatus: runStatus as StartTaskReply['runStatus'],
      attempt: Number(attempt),
      statuses: reply.slice(4, 4 + input.wanted.length),
      outputs: reply.slice(4 + input.wanted.length),
    };
    if (recorded) result.recorded = { status: recorded as TaskFinalStatus, output: recordedOutput || undefined };
    return result;
  }

  /** One start as start-task takes it, and complete-task per dependent it may start. */
  private startBlock(input: StartTaskInput): Arg[] {
    const { carrier, wanted, reads } = input;
    const head = [input.taskId, input.attempt, Date.now(), input.worker, carrier?.jobId ?? '', carrier?.token ?? ''];
    return [...head, wanted.length, reads.length, ...wanted, ...reads];
  }

  /** Records a completion exactly once and returns the dependents it made ready. */
  async completeTask(executionId: string, input: CompleteTaskInput): Promise<CompleteTaskReply> {
    const k = this.runKeys(executionId);
    const starts = input.starts ?? [];
    const startArgs: Arg[] = [starts.length, ...starts.flatMap((start) => this.startBlock(start))];
    const reply = (await this.run(
      'complete-task-6',
      [k.meta, k.tasks, k.finished, k.outputs, k.events, k.waits],
      [
        input.taskId,
        input.status,
        input.output ?? '',
        input.error ?? '',
        input.now ?? Date.now(),
        input.attempt,
        input.failFast ? '1' : '0',
        input.reason ?? '',
        input.taskCount ?? 0,
        input.dependents.length,
        ...input.dependents,
        ...startArgs,
      ],
    )) as string[];
    return completeTaskReply(reply, starts);
  }

  /** Ends a failed attempt that will be retried: kept in the task's history, and `task.retrying` appended. */
  async retryTask(
    executionId: string,
    input: { taskId: string; attempt: number; error: string; status: 'failed' | 'timed_out'; now?: number },
  ): Promise<void> {
    const k = this.runKeys(executionId);
    await this.run(
      'retry-task-2',
      [k.tasks, k.events],
      [input.taskId, input.attempt, input.now ?? Date.now(), input.error, input.status],
    );
  }

  /** Ends a run once: what the end leaves to do when this call ended it, else undefined. */
  async finalize(executionId: string, input: FinalizeInput): Promise<FinalizeReply | undefined> {
    const k = this.runKeys(executionId);
    const now = input.now ?? Date.now();
    const keys = [k.meta, k.tasks, k.finished, k.outputs, k.events, k.waits, k.def, this.keys.deadlines()];
    const slots = [this.keys.active(), this.keys.pending(), this.keys.starting()];
    const reply = await this.run(
      'finalize-12',
      [...keys, this.keys.taskLogs(executionId), ...slots],
      [
        executionId,
        input.status,
        input.error,
        now,
        input.ttlMs,
        input.unfinishedStatus,
        input.channel,
        input.recordCap,
        input.admission.limit,
        now + input.admission.startGraceMs,
        ...input.unfinished,
      ],
    );
    if (!Array.isArray(reply)) return undefined;
    const [, respondTo, record, admitted, ...logFields] = reply as [
      number,
      string,
      unknown[] | 0,
      string[],
      ...string[],
    ];
    const hashes = Array.isArray(record) ? recordHashes(record[0], record[1], record[2]) : undefined;
    return { respondTo, logFields, admitted, ...(hashes ? { record: hashes } : {}) };
  }

  /** Marks the tasks that never finished and moves the run to `exiting`; true when this call did. */
  async beginExit(executionId: string, input: BeginExitInput): Promise<boolean> {
    const k = this.runKeys(executionId);
    const started = await this.run(
      'begin-exit-4',
      [k.meta, k.tasks, k.finished, k.events],
      [
        input.status,
        input.error,
        input.now ?? Date.now(),
        input.unfinishedStatus,
        input.workflow,
        input.deadline,
        ...input.unfinished,
      ],
    );
    return started === 1;
  }

  /** Moves a run running its exit handlers to `timing_out`: they are stopped. True when this call did. */
  async cutExit(executionId: string, graceMs: number): Promise<boolean> {
    const stopped = await this.run(
      'cut-exit-2',
      [this.keys.meta(executionId), this.keys.events(executionId)],
      [Date.now(), graceMs],
    );
    return stopped === 1;
  }

  /**
   * Takes a slot of each gate (one or two) for `who`, or queues it. `wake`: members it stopped waiting for at a gate
   * with a free slot, whose jobs the caller wakes. A run that is not running has nothing wait: entered, no slot.
   */
  async gateEnter(
    executionId: string,
    who: GateMember,
    gates: readonly Gate[],
    now = Date.now(),
  ): Promise<{ entered: boolean; wake: string[] }> {
    const keys = [...this.gateKeys(executionId, gates), this.keys.meta(executionId)];
    const [entered, ...wake] = (await this.run('gate-enter-6', keys, [
      who.member,
      now,
      ...gateLimits(gates),
      who.item?.task ?? '',
      who.item?.index ?? 0,
    ])) as [number, ...string[]];
    return { entered: entered === 1, wake };
  }

  /** Gives back `who`'s slots; returns the members to wake for the slots now free. */
  async gateLeave(
    executionId: string,
    who: GateMember,
    gates: readonly Gate[],
    outcome: 'completed' | 'failed' = 'completed',
    now = Date.now(),
  ): Promise<string[]> {
    return (await this.run('gate-leave-5', this.gateKeys(executionId, gates), [
      who.member,
      now,
      ...gateLimits(gates),
      who.item?.task ?? '',
      who.item?.index ?? 0,
      outcome,
    ])) as string[];
  }

  private gateKeys(executionId: string, gates: readonly Gate[]): string[] {
    const [a, b = a] = gates as [Gate, Gate?];
    const k = this.keys;
    return [
      k.gateSlots(executionId, a.name),
      k.gateQueue(executionId, a.name),
      k.gateSlots(executionId, b.name),
      k.gateQueue(executionId, b.name),
      k.events(executionId),
    ];
  }

  /** Moves a running or paused run to `status`; returns the status before, undefined when the run does not exist. */
  async abort(
    executionId: string,
    input: { status: Extract<EndingStatus, 'cancelling' | 'timing_out'>; reason: string },
  ): Promise<InternalStatus | undefined> {
    const before = (await this.run(
      'abort-2',
      [this.keys.meta(executionId), this.keys.events(executionId)],
      [input.status, input.reason, Date.now()],
    )) as string;
    return before === '' ? undefined : (before as InternalStatus);
  }

  /** Takes a concurrency slot for a run, or queues it; true when admitted. */
  async admit(executionId: string, limit: number): Promise<boolean> {
    return (await this.run('admit-2', [this.keys.active(), this.keys.pending()], [executionId, limit])) === 1;
  }

  /** Creates a run, claiming its idempotency key in the same step (see create-run-13.lua). */
  async createRun(executionId: string, input: CreateRunArgs): Promise<CreateRunReply> {
    const k = this.runKeys(executionId);
    const reply = (await this.run(
      'create-run-13',
      [
        input.claimKey ?? k.meta,
        k.def,
        k.meta,
        k.events,
        this.keys.index(),
        k.waits,
        k.finished,
        k.outputs,
        k.tasks,
        this.keys.active(),
        this.keys.pending(),
        this.keys.deadlines(),
        this.keys.starting(),
      ],
      [
        executionId,
        input.claimKey ? input.claimTtlMs : 0,
        input.fingerprint,
        input.definition,
        JSON.stringify(input.layout),
        input.createdAt,
        input.limit ?? -1,
        input.now ?? Date.now(),
        input.timeoutMs,
        input.startGraceMs,
      ],
    )) as [number, number | string, string?];
    if (reply[0] === 1) return { created: true, admitted: reply[1] === 1 };
    return { created: false, executionId: String(reply[1]), fingerprint: reply[2] ?? '' };
  }

  /** Makes `channel` the run's final-message channel unless it has one (see claim-responder-1.lua). */
  async claimResponder(executionId: string, channel: string): Promise<'gone' | 'taken' | 'claimed' | 'ended'> {
    const reply = Number(await this.run('claim-responder-1', [this.keys.meta(executionId)], [channel]));
    return reply === -1 ? 'gone' : reply === 0 ? 'taken' : reply === 1 ? 'claimed' : 'ended';
  }

  /** Takes up to `batch` runs whose `starting` marker is due, leasing them to this caller for `leaseMs`. */
  async claimStarting(now: number, batch: number, leaseMs: number): Promise<string[]> {
    return (await this.run('claim-starting-1', [this.keys.starting()], [now, batch, leaseMs])) as string[];
  }

  /**
   * Frees a run's slot (none when `executionId` is undefined) and admits the oldest waiting runs into free slots,
   * with `starting` markers due `startGraceMs` from now.
   */
  async releaseSlot(executionId: string | undefined, limit: number, startGraceMs: number): Promise<string[]> {
    return (await this.run(
      'release-slot-3',
      [this.keys.active(), this.keys.pending(), this.keys.starting()],
      [executionId ?? '', limit, Date.now() + startGraceMs],
    )) as string[];
  }

  /** Takes up to `batch` runs whose deadline is past out of the deadline set, for exactly one caller to time out. */
  async claimDeadlines(now: number, batch: number): Promise<string[]> {
    return (await this.run('claim-deadlines-1', [this.keys.deadlines()], [now, batch])) as string[];
  }

  /** Appends entries to a task attempt's log, within `cap` bytes (a marker line says when it was hit). */
  async appendLog(id: string, input: AppendLogInput): Promise<number> {
    const { taskId, attempt, cap, marker, entries } = input;
    const keys = [this.keys.taskLog(id, taskId, attempt), this.keys.taskLogs(id), this.keys.meta(id)];
    const lines = entries.flatMap((e) => [e.stream, e.level, e.text, e.at]);
    return (await this.run('append-log-3', keys, [
      `${taskId}:${attempt}`,
      cap,
      Date.now(),
      marker,
      ...lines,
    ])) as number;
  }

  private runKeys(executionId: string) {
    const k = this.keys;
    return {
      meta: k.meta(executionId),
      tasks: k.tasks(executionId),
      finished: k.finished(executionId),
      outputs: k.outputs(executionId),
      events: k.events(executionId),
      waits: k.waits(executionId),
      def: k.def(executionId),
    };
  }
}

/** Gate A's limit, and gate B's (0: none). */
function gateLimits(gates: readonly Gate[]): [number, number] {
  return [gates[0]?.limit ?? 0, gates[1]?.limit ?? 0];
}

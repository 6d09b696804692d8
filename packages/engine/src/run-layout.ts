import type { RedisKeys } from '@orch/redis';
import type { EventType } from '@orch/run-model';
import type { ChainableCommander } from 'ioredis';
import type { ExecutionDefinition } from './execution-definition';
import type { TaskState } from './run-record-view';

/**
 * How the run store lays a run out in Redis: the definition's JSON read back, event fields, fan-in counters, the
 * skips of untargeted tasks written with the run.
 */

/** Records the tasks `targets` left out as skipped (`not targeted`), each with its event, on `multi`. */
export function skipUntargeted(
  multi: ChainableCommander,
  keys: RedisKeys,
  id: string,
  tasks: string[],
  at: number,
): void {
  const state = JSON.stringify(untargetedState(at));
  multi
    .hset(keys.finished(id), new Map(tasks.map((t) => [t, 'skipped'])))
    .hset(keys.tasks(id), new Map(tasks.map((t) => [t, state])));
  for (const t of tasks) multi.xadd(keys.events(id), '*', ...untargetedEvent(t, at));
}

const untargetedState = (at: number): TaskState => ({ s: 'skipped', a: 0, ft: at, r: 'not targeted' });
const untargetedEvent = (task: string, at: number) => [
  ...eventFields('task.skipped', at),
  'task',
  task,
  'reason',
  'not targeted',
];

/** What creating a run writes besides its definition, as flat field/value lists (the create-run script's layout). */
export interface CreationLayout {
  meta: string[];
  waits: string[];
  fin: string[];
  out: string[];
  tasks: string[];
  /** In order: `workflow.created`, then the untargeted tasks' skips. */
  events: string[][];
}

/** The layout of a new run: its meta, fan-in counters, untargeted skips and the completions `seed` reuses. */
export function creationLayout(
  def: ExecutionDefinition,
  meta: Record<string, string>,
  seed: ReadonlyMap<string, string>,
): CreationLayout {
  const at = def.createdAt;
  const layout: CreationLayout = {
    meta: Object.entries(meta).flat(),
    waits: [...waitCounts(def, seed)].flatMap(([t, n]) => [t, String(n)]),
    fin: [],
    out: [],
    tasks: [],
    events: [eventFields('workflow.created', at)],
  };
  const skipped = JSON.stringify(untargetedState(at));
  for (const t of def.untargeted ?? []) {
    layout.fin.push(t, 'skipped');
    layout.tasks.push(t, skipped);
    layout.events.push(untargetedEvent(t, at));
  }
  const reused = JSON.stringify({ s: 'completed', a: 0, reused: true } satisfies TaskState);
  for (const [t, output] of seed) {
    layout.fin.push(t, 'completed');
    layout.out.push(t, output);
    layout.tasks.push(t, reused);
  }
  return layout;
}

/** The fields every event starts with. */
export function eventFields(type: EventType, at = Date.now()): string[] {
  return ['type', type, 'at', String(at)];
}

/** Each task's fan-in counter: its dependencies that are not done (`done` holds tasks completed up front). */
export function waitCounts(def: ExecutionDefinition, done: ReadonlyMap<string, unknown>): Map<string, number> {
  const waits = new Map<string, number>();
  for (const task of [...Object.values(def.tasks), ...Object.values(def.exitTasks ?? {})]) {
    if (task.deps.length > 0) waits.set(task.id, task.deps.filter((d) => !done.has(d)).length);
  }
  return waits;
}

/** A stored definition, its id-keyed records without a prototype again (JSON.parse gives them Object's). */
export function parseDefinition(json: string): ExecutionDefinition {
  const def = JSON.parse(json) as ExecutionDefinition;
  def.tasks = Object.assign(Object.create(null), def.tasks);
  if (def.exitTasks) def.exitTasks = Object.assign(Object.create(null), def.exitTasks);
  return def;
}

/** What the create-run script takes (see create-run-13.lua). */
export interface CreateRunArgs {
  /** The idempotency key to claim first; none for a run without one. */
  claimKey?: string;
  claimTtlMs: number;
  /** Kept with the claim: a later request with the same id but another fingerprint is a conflict. */
  fingerprint: string;
  definition: string;
  layout: CreationLayout;
  createdAt: number;
  /** Admission under this limit; none: only written. */
  limit?: number;
  now?: number;
  timeoutMs: number;
  startGraceMs: number;
}

export type CreateRunReply =
  | {
      created: true;
      admitted: boolean /** With replica acks asked for: whether enough replicas held it in time. */;
      replicated?: boolean;
    }
  | { created: false; executionId: string; fingerprint: string };

export interface CreateRunInput {
  def: ExecutionDefinition;
  /** Extra meta fields (`respond_to`, `parent_execution_id`, `retried_from`). */
  extra?: Record<string, string>;
  /** Outputs of tasks recorded as completed up front (a retry reusing checkpoints), by task id. */
  seed?: ReadonlyMap<string, string>;
  /** Admission in the same step, under this concurrency limit; without one the run is only written. */
  limit?: number;
  /** How long the run's idempotency key (`def.claim`) is held. */
  claimTtlMs?: number;
  /** How long after admission a run whose first jobs no worker has seen counts as orphaned. */
  startGraceMs?: number;
}

/** Runs whose first jobs are not seen queued this long after admission are started by a worker's sweep. */
export const START_GRACE_MS = 5000;

/** A new run's meta hash: pending, what it runs, and `extra` (who submitted it, where to answer, ...). */
export function initialMeta(def: ExecutionDefinition, extra: Record<string, string>): Record<string, string> {
  const meta: Record<string, string> = {
    status: 'pending',
    workflow_id: def.workflow.id,
    created_at: String(def.createdAt),
    total: String(Object.keys(def.tasks).length + Object.keys(def.exitTasks ?? {}).length),
    ...extra,
  };
  if (def.workflow.name) meta.workflow_name = def.workflow.name;
  if (def.template) {
    meta.template_id = def.template.id;
    if (def.template.version) meta.template_version = def.template.version;
  }
  if (def.correlationId) meta.correlation_id = def.correlationId;
  return meta;
}

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
  const state = JSON.stringify({ s: 'skipped', a: 0, ft: at, r: 'not targeted' } satisfies TaskState);
  multi
    .hset(keys.finished(id), new Map(tasks.map((t) => [t, 'skipped'])))
    .hset(keys.tasks(id), new Map(tasks.map((t) => [t, state])));
  for (const t of tasks)
    multi.xadd(keys.events(id), '*', ...eventFields('task.skipped', at), 'task', t, 'reason', 'not targeted');
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

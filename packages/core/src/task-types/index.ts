import { ai } from './ai';
import { approval } from './approval';
import { condition } from './condition';
import { data } from './data';
import { delay } from './delay';
import { exec } from './exec';
import { http } from './http';
import { parallel, SUB_TASK_TYPES } from './parallel';
import type { ParametersOf, TaskKind, TaskTypeModule } from './task-type';
import { transform } from './transform';
import { workflow } from './workflow';

/** THE catalog of task types: one module each (`task-types/<type>.ts`); adding a type is adding it here. */
export const TASK_TYPE_MODULES = [
  data,
  ai,
  exec,
  http,
  parallel,
  condition,
  transform,
  workflow,
  approval,
  delay,
] as const;

type Modules = (typeof TASK_TYPE_MODULES)[number];

export type TaskType = Modules['name'];

/** Each type's module by name. */
export type TaskCatalog = { readonly [M in Modules as M['name']]: M };

/** Modules seen only by name, for the loops below (the full union is too deep for TypeScript to map over). */
const named = TASK_TYPE_MODULES as readonly { name: string; kind: string; subTask?: boolean }[];

export const TASK_CATALOG = Object.freeze(
  Object.assign(Object.create(null), Object.fromEntries(named.map((m) => [m.name, m]))),
) as TaskCatalog;

export const TASK_TYPES = named.map((m) => m.name) as readonly TaskType[];

/** A task type seen without its literal types (for lookups by name). */
export type AnyTaskType = TaskTypeModule<string, object, TaskKind, unknown>;

/** The parameters of a task type, as its handler receives them (typed from its schema). */
export type TaskParameters<K extends TaskType> = ParametersOf<TaskCatalog[K]>;

/** Task types whose handler the worker supplies (they call external services). */
export type ServiceTaskType = Extract<Modules, { kind: 'service' }>['name'];
export type BuiltinTaskType = Extract<Modules, { kind: 'builtin' }>['name'];
export type ControlTaskType = Extract<Modules, { kind: 'control' }>['name'];

export const SERVICE_TASK_TYPES = named.filter((m) => m.kind === 'service').map((m) => m.name) as ServiceTaskType[];

export function isTaskType(value: unknown): value is TaskType {
  return typeof value === 'string' && Object.hasOwn(TASK_CATALOG, value);
}

/**
 * The module of a type by name; undefined for an unknown one. Validation and dispatch look types up here, so types
 * registered at run time (by external workers) can join the built-in catalog later.
 */
export function taskTypeOf(name: string): AnyTaskType | undefined {
  return isTaskType(name) ? (TASK_CATALOG[name] as unknown as AnyTaskType) : undefined;
}

// Every sub-task type is a catalog type marked `subTask`, and the other way round.
const subTaskTypes = named.filter((m) => m.subTask).map((m) => m.name);
for (const m of TASK_TYPE_MODULES as readonly { name: string; kind: string; run: { kind: string } }[]) {
  if (m.kind !== m.run.kind) throw new Error(`task type ${m.name}: kind ${m.kind} but run.kind ${m.run.kind}`);
}
if (subTaskTypes.join() !== [...SUB_TASK_TYPES].join()) {
  throw new Error(`SUB_TASK_TYPES (${SUB_TASK_TYPES.join()}) disagree with the catalog (${subTaskTypes.join()})`);
}

export { APPROVAL_TIMEOUT_MS, DECISION_NOTE } from './approval';
export { SECRET_MARKER, secretMarker } from './http';
export { conditionExpression } from './schema-parts';
export * from './task-type';
export { CHILD_RUN_NOTE, MAX_WORKFLOW_DEPTH } from './workflow';
export { SUB_TASK_TYPES };

import { ai } from './ai';
import { approval } from './approval';
import { condition } from './condition';
import { data } from './data';
import { delay } from './delay';
import { exec } from './exec';
import { EXTERNAL_TYPE_NAME, type ExternalTaskType, type ExternalTaskTypeSpec, externalModule } from './external-types';
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

/** Types registered at run time by SDK workers, as this process last loaded them (never a built-in name). */
let external = new Map<string, ExternalTaskType>();
/** Moves on whenever `external` changes: what a validation cached under it depended on. */
let generation = 0;

/** A number that changes whenever the registered types do (a cached validation is stale once it has moved). */
export function taskTypesGeneration(): number {
  return generation;
}

/**
 * The module of a type by name: a built-in one, else one an SDK worker registered; undefined for an unknown one.
 * Validation and dispatch look types up here.
 */
export function taskTypeOf(name: string): AnyTaskType | undefined {
  if (isTaskType(name)) return TASK_CATALOG[name] as unknown as AnyTaskType;
  return external.get(name) as AnyTaskType | undefined;
}

/** The SDK type of that name, if one is loaded. */
export function externalTaskTypeOf(name: string): ExternalTaskType | undefined {
  return external.get(name);
}

/** Every known type: the built-in ones, then the registered ones by name. */
export function knownTaskTypes(): string[] {
  return [...TASK_TYPES, ...[...external.keys()].sort()];
}

/** Why a registration is refused; undefined when it is fine. Built-in names can never be taken over. */
export function externalTypeProblem(spec: Partial<ExternalTaskTypeSpec>): string | undefined {
  const name = spec.name;
  if (typeof name !== 'string' || !EXTERNAL_TYPE_NAME.test(name))
    return `task type name ${JSON.stringify(name)} must match ${EXTERNAL_TYPE_NAME.source}`;
  if (isTaskType(name)) return `'${name}' is a built-in task type; a worker cannot register it`;
  if (!spec.parameters || typeof spec.parameters !== 'object' || Array.isArray(spec.parameters))
    return `task type '${name}': parameters must be a JSON Schema object`;
  if (typeof spec.queue !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(spec.queue))
    return `task type '${name}': queue ${JSON.stringify(spec.queue)} is not a queue name`;
  return undefined;
}

/**
 * Replaces the registered types with `specs` (what the registry holds); each refused one is returned with why, and
 * left out. Types whose spec did not change keep their module, so compiled schema checks stay cached.
 */
export function loadExternalTaskTypes(specs: readonly ExternalTaskTypeSpec[]): { name: string; problem: string }[] {
  const refused: { name: string; problem: string }[] = [];
  const next = new Map<string, ExternalTaskType>();
  for (const spec of specs) {
    const problem = externalTypeProblem(spec);
    if (problem) {
      refused.push({ name: String(spec.name), problem });
      continue;
    }
    const before = external.get(spec.name);
    next.set(spec.name, before && JSON.stringify(before.spec) === JSON.stringify(spec) ? before : externalModule(spec));
  }
  if (next.size !== external.size || [...next].some(([name, type]) => external.get(name) !== type)) generation++;
  external = next;
  return refused;
}

/** Adds (or replaces) registered types, keeping the others: what an SDK worker does with its own. */
export function addExternalTaskTypes(specs: readonly ExternalTaskTypeSpec[]): void {
  for (const spec of specs) {
    const problem = externalTypeProblem(spec);
    if (problem) throw new Error(problem);
    external.set(spec.name, externalModule(spec));
  }
  generation++;
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
export type { ExternalTaskType, ExternalTaskTypeSpec } from './external-types';
export { EXTERNAL_TYPE_NAME } from './external-types';
export { SECRET_MARKER, secretMarker } from './http';
export { conditionExpression } from './schema-parts';
export * from './task-type';
export { CHILD_RUN_NOTE, MAX_WORKFLOW_DEPTH } from './workflow';
export { SUB_TASK_TYPES };

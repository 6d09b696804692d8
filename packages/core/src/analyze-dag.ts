import { parseDuration } from './duration';
import type { TaskDefinition } from './workflow';

export interface DagAnalysis {
  /** Task ids in declaration order. */
  ids: string[];
  /** Direct dependencies: `depends_on` plus the condition tasks that list the task in `on_success`/`on_failure`. */
  dependencies: Record<string, string[]>;
  dependents: Record<string, string[]>;
  roots: string[];
  leaves: string[];
  /** Topological order, ties broken by declaration order. Empty when there is a cycle. */
  order: string[];
  /** `levels[k]` holds the tasks whose longest dependency chain has k links. */
  levels: string[][];
  depth: number;
  width: number;
  /** A cycle as a closed path, `['a', 'b', 'a']`, when the graph has one. */
  cycle?: string[];
  /** The longest chain when each task costs its declared timeout (0 when it declares none). */
  criticalPath: string[];
  criticalPathMs: number;
}

/** Every edge of a task, implicit ones included. Unknown ids are ignored: the validator reports them. */
export function taskDependencies(tasks: readonly TaskDefinition[]): Record<string, string[]> {
  const known = new Set(tasks.map((t) => t.id));
  const deps: Record<string, string[]> = Object.create(null);
  for (const t of tasks) deps[t.id] = [...new Set((t.depends_on ?? []).filter((d) => known.has(d) && d !== t.id))];
  for (const t of tasks) {
    for (const target of [...(t.on_success ?? []), ...(t.on_failure ?? [])]) {
      const list = deps[target];
      if (list && target !== t.id && !list.includes(t.id)) list.push(t.id);
    }
  }
  return deps;
}

export function analyzeDag(tasks: readonly TaskDefinition[]): DagAnalysis {
  const ids = tasks.map((t) => t.id);
  const dependencies = taskDependencies(tasks);
  const dependents: Record<string, string[]> = byId(ids.map((id) => [id, [] as string[]]));
  for (const id of ids) for (const d of dependencies[id] ?? []) dependents[d]?.push(id);
  const roots = ids.filter((id) => (dependencies[id]?.length ?? 0) === 0);
  const leaves = ids.filter((id) => (dependents[id]?.length ?? 0) === 0);
  const sorted = topologicalOrder(ids, dependencies, dependents);
  const base = { ids, dependencies, dependents, roots, leaves };
  if (sorted.order.length < ids.length) {
    const stuck = ids.filter((id) => (sorted.remaining.get(id) ?? 0) > 0);
    return {
      ...base,
      order: [],
      levels: [],
      depth: 0,
      width: 0,
      cycle: findCycle(stuck, dependencies),
      criticalPath: [],
      criticalPathMs: 0,
    };
  }
  const levels: string[][] = [];
  for (const id of sorted.order) {
    const k = sorted.level.get(id) ?? 0;
    const bucket = levels[k] ?? [];
    levels[k] = bucket;
    bucket.push(id);
  }
  const critical = criticalPath(tasks, sorted.order, dependencies);
  return {
    ...base,
    order: sorted.order,
    levels,
    depth: levels.length,
    width: Math.max(...levels.map((l) => l.length)),
    criticalPath: critical.path,
    criticalPathMs: critical.ms,
  };
}

/** An id-keyed record without a prototype, so a task named `__proto__` or `constructor` is just a key. */
function byId<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const record: Record<string, T> = Object.create(null);
  for (const [id, value] of entries) record[id] = value;
  return record;
}

/** Kahn's algorithm, ties broken by declaration order; each task's level is its longest dependency chain. */
function topologicalOrder(
  ids: readonly string[],
  dependencies: Record<string, string[]>,
  dependents: Record<string, string[]>,
): { order: string[]; level: Map<string, number>; remaining: Map<string, number> } {
  const remaining = new Map(ids.map((id) => [id, dependencies[id]?.length ?? 0]));
  const level = new Map<string, number>();
  const order: string[] = [];
  let frontier = ids.filter((id) => remaining.get(id) === 0);
  for (const id of frontier) level.set(id, 0);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const id of frontier) {
      order.push(id);
      for (const child of dependents[id] ?? []) {
        level.set(child, Math.max(level.get(child) ?? 0, (level.get(id) ?? 0) + 1));
        const left = (remaining.get(child) ?? 0) - 1;
        remaining.set(child, left);
        if (left === 0) next.push(child);
      }
    }
    frontier = next;
  }
  return { order, level, remaining };
}

/** The longest chain when each task costs its declared timeout (0 when it declares none). */
function criticalPath(
  tasks: readonly TaskDefinition[],
  order: readonly string[],
  dependencies: Record<string, string[]>,
): { path: string[]; ms: number } {
  const cost = new Map(tasks.map((t) => [t.id, t.timeout === undefined ? 0 : safeDuration(t.timeout)]));
  const best = new Map<string, { ms: number; via?: string }>();
  for (const id of order) {
    let via: string | undefined;
    let ms = 0;
    for (const d of dependencies[id] ?? []) {
      const m = best.get(d)?.ms ?? 0;
      if (via === undefined || m > ms) [via, ms] = [d, m];
    }
    best.set(id, { ms: ms + (cost.get(id) ?? 0), via });
  }
  let end = order[0] as string;
  for (const id of order) if ((best.get(id)?.ms ?? 0) > (best.get(end)?.ms ?? 0)) end = id;
  const path: string[] = [];
  for (let at: string | undefined = end; at !== undefined; at = best.get(at)?.via) path.unshift(at);
  return { path, ms: best.get(end)?.ms ?? 0 };
}

function safeDuration(value: unknown): number {
  try {
    return parseDuration(value);
  } catch {
    return 0;
  }
}

/** Walks dependency edges inside the unsorted remainder until a task repeats; that stretch is a cycle. */
function findCycle(stuck: string[], dependencies: Record<string, string[]>): string[] {
  const inStuck = new Set(stuck);
  const start = stuck[0];
  if (start === undefined) return [];
  const path: string[] = [];
  const index = new Map<string, number>();
  let at = start;
  while (!index.has(at)) {
    index.set(at, path.length);
    path.push(at);
    at = (dependencies[at] ?? []).find((d) => inStuck.has(d)) as string;
  }
  // Edges point from a task to what it needs; print the cycle in the direction work flows.
  return [...path.slice(index.get(at)), at].reverse();
}

/** True when `ancestor` is reachable from `id` through dependencies. */
export function dependsTransitively(id: string, ancestor: string, dependencies: Record<string, string[]>): boolean {
  const seen = new Set<string>();
  const stack = [...(dependencies[id] ?? [])];
  while (stack.length > 0) {
    const at = stack.pop() as string;
    if (at === ancestor) return true;
    if (seen.has(at)) continue;
    seen.add(at);
    stack.push(...(dependencies[at] ?? []));
  }
  return false;
}

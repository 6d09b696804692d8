import type { TaskDefinition } from '@orch/core';
import type { CompiledTask, ExecutionDefinition } from './execution-definition';

interface Lookups {
  wanted: Map<string, string[]>;
  sources: Map<string, TaskDefinition>;
}

const lookups = new WeakMap<ExecutionDefinition, Lookups>();

/** Per-definition memos: what every task of a run computes alike, computed once per cached definition. */
function of(def: ExecutionDefinition): Lookups {
  let found = lookups.get(def);
  if (!found) {
    const all = [...def.workflow.tasks, ...(def.workflow.on_exit ?? [])];
    found = { wanted: new Map(), sources: new Map(all.map((t) => [t.id, t])) };
    lookups.set(def, found);
  }
  return found;
}

/** A task's dependencies and read tasks, each once: whose statuses start-task returns. */
export function wantedBy(def: ExecutionDefinition, task: CompiledTask): string[] {
  const memo = of(def).wanted;
  let ids = memo.get(task.id);
  if (!ids) {
    ids = [...new Set([...task.deps, ...task.reads])];
    memo.set(task.id, ids);
  }
  return ids;
}

/** A task's (or exit handler's) definition as written; indexed once per definition, since a linear find per task is O(n²). */
export function sourceOf(def: ExecutionDefinition, id: string): TaskDefinition {
  return of(def).sources.get(id) as TaskDefinition;
}

import type { TaskDefinition } from '@orch/core';
import type { CompiledTask, ExecutionDefinition } from './execution-definition';
import type { WorkflowEngine } from './workflow-engine';

export interface HotData {
  /** The run's task keys, for complete-task; the first five are start-task's. */
  keys: string[];
  startKeys: string[];
  /** A task's dependencies and read tasks, each once: whose statuses start-task returns. */
  wanted(task: CompiledTask): string[];
}

const hot = new WeakMap<ExecutionDefinition, HotData>();

/** What every task of a run computes alike, computed once per cached definition. */
export function hotData(def: ExecutionDefinition, engine: WorkflowEngine): HotData {
  let data = hot.get(def);
  if (!data) {
    const keys = engine.keys.taskKeys(def.executionId);
    const wanted = new Map<string, string[]>();
    data = {
      keys,
      startKeys: keys.slice(0, 5),
      wanted: (task) => {
        let ids = wanted.get(task.id);
        if (!ids) {
          ids = [...new Set([...task.deps, ...task.reads])];
          wanted.set(task.id, ids);
        }
        return ids;
      },
    };
    hot.set(def, data);
  }
  return data;
}

const sources = new WeakMap<ExecutionDefinition, Map<string, TaskDefinition>>();

/** A task's definition as written; indexed once per cached definition, since a linear find per task is O(n²). */
export function sourceOf(def: ExecutionDefinition, id: string): TaskDefinition {
  let byId = sources.get(def);
  if (!byId) {
    byId = new Map(def.workflow.tasks.map((t) => [t.id, t]));
    sources.set(def, byId);
  }
  return byId.get(id) as TaskDefinition;
}

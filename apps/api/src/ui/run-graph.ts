import type { WorkflowEngine } from '@orch/engine';

/** What the run page draws: the task graph, which the run record (statuses, outputs) does not carry. */
export interface RunGraph {
  execution_id: string;
  workflow: { id: string; name?: string };
  tasks: {
    id: string;
    name?: string;
    type: string;
    depends_on: string[];
    condition?: string;
    /** For tasks on a branch of a condition task: which branch. */
    branches?: Record<string, 'on_success' | 'on_failure'>;
    /** A `workflow` task that started its run: the child run's id (the latest attempt's). */
    child_execution_id?: string;
  }[];
  /** Set on a sub-workflow: the run and task that started it. */
  parent?: { execution_id: string; task: string };
}

/** The graph of one run from its stored definition, with each `workflow` task's child run and a sub-workflow's parent. */
export async function runGraph(engine: WorkflowEngine, id: string): Promise<RunGraph> {
  // definition() is a 404 only for a missing run; any other failure (Redis down) keeps its own status.
  const def = await engine.definition(id);
  const children = await engine.childRuns(id);
  const graph: RunGraph = {
    execution_id: id,
    workflow: { id: def.workflow.id, ...(def.workflow.name ? { name: def.workflow.name } : {}) },
    tasks: def.workflow.tasks.map((t) => {
      const compiled = def.tasks[t.id];
      const child = children.get(t.id);
      return {
        id: t.id,
        ...(t.name ? { name: t.name } : {}),
        type: t.type,
        depends_on: compiled?.deps ?? t.depends_on ?? [],
        ...(t.condition ? { condition: t.condition } : {}),
        ...(compiled?.branches ? { branches: compiled.branches } : {}),
        ...(child ? { child_execution_id: child } : {}),
      };
    }),
  };
  if (def.parent) graph.parent = { execution_id: def.parent.executionId, task: def.parent.taskId };
  return graph;
}

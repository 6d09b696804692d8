/**
 * Workflow shapes of no-op `transform` tasks. The output is a constant, so a task reads no other task and its
 * handler costs nothing: what is measured is the engine (scheduling, Redis, BullMQ), not expression evaluation.
 */

export interface BenchTask {
  id: string;
  type: 'transform';
  depends_on?: string[];
  parameters: { output: number };
}

export interface BenchWorkflow {
  id: string;
  name: string;
  tasks: BenchTask[];
  /** At most this many tasks running at once (the engine's concurrency gate). */
  max_concurrency?: number;
}

const task = (id: string, deps: string[] = []): BenchTask =>
  deps.length > 0
    ? { id, type: 'transform', depends_on: deps, parameters: { output: 1 } }
    : { id, type: 'transform', parameters: { output: 1 } };

/** 1 root -> `width` independent tasks -> 1 join. */
export function wide(width: number): BenchWorkflow {
  const middle = Array.from({ length: width }, (_, i) => task(`w${i}`, ['root']));
  return {
    id: `bench-wide-${width}`,
    name: 'bench wide',
    tasks: [
      task('root'),
      ...middle,
      task(
        'join',
        middle.map((t) => t.id),
      ),
    ],
  };
}

/** `wide(width)` under a `max_concurrency`: what a limit costs per task (a gate slot taken and given back). */
export function wideLimited(width: number, limit: number): BenchWorkflow {
  return {
    ...wide(width),
    id: `bench-wide-${width}-limit-${limit}`,
    name: 'bench wide limited',
    max_concurrency: limit,
  };
}

/** c0 -> c1 -> ... -> c(length-1). */
export function chain(length: number): BenchWorkflow {
  return {
    id: `bench-chain-${length}`,
    name: 'bench chain',
    tasks: Array.from({ length }, (_, i) => task(`c${i}`, i === 0 ? [] : [`c${i - 1}`])),
  };
}

/**
 * A seeded random DAG: task i > 0 depends on 1 to 3 distinct tasks drawn uniformly from those before it, so there is
 * one root, the longest path grows like ln(size) and most levels are wide. Same seed, same graph, every run.
 */
export function randomDag(size: number, seed: number): BenchWorkflow {
  const random = xorshift(seed);
  const tasks: BenchTask[] = [];
  for (let i = 0; i < size; i++) {
    const deps = new Set<string>();
    const wanted = i === 0 ? 0 : 1 + Math.floor(random() * 3);
    for (let k = 0; k < wanted; k++) deps.add(`n${Math.floor(random() * i)}`);
    tasks.push(task(`n${i}`, [...deps]));
  }
  return { id: `bench-random-${size}-${seed}`, name: 'bench random', tasks };
}

/** Depth (tasks on the longest path) and edge count, to describe a shape in the results. */
export function describeShape(workflow: BenchWorkflow): { tasks: number; edges: number; depth: number } {
  const depth = new Map<string, number>();
  let edges = 0;
  for (const t of workflow.tasks) {
    const deps = t.depends_on ?? [];
    edges += deps.length;
    depth.set(t.id, 1 + Math.max(0, ...deps.map((d) => depth.get(d) ?? 0)));
  }
  return { tasks: workflow.tasks.length, edges, depth: Math.max(...depth.values()) };
}

/** The 5-task template behind the HTTP start-rate case: a -> (b, c) -> d -> e. */
export function fiveTaskTemplate(): object {
  return {
    id: 'bench-five',
    name: 'Bench five tasks',
    category: 'bench',
    version: '1.0',
    workflow: {
      id: 'bench-five-execution',
      tasks: [task('a'), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c']), task('e', ['d'])],
    },
  };
}

/** xorshift32: tiny, seedable and good enough to draw graph edges. */
function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

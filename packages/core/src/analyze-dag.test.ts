import { analyzeDag } from './analyze-dag';
import type { TaskDefinition } from './workflow';

const task = (id: string, depends_on: string[] = [], more: Partial<TaskDefinition> = {}): TaskDefinition => ({
  id,
  type: 'transform',
  depends_on,
  ...more,
});

describe('analyzeDag', () => {
  it('finds roots, order, levels, dependents, depth and width', () => {
    const dag = analyzeDag([task('a'), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c']), task('e')]);
    expect(dag.roots).toEqual(['a', 'e']);
    expect(dag.leaves).toEqual(['d', 'e']);
    expect(dag.order).toEqual(['a', 'e', 'b', 'c', 'd']);
    expect(dag.levels).toEqual([['a', 'e'], ['b', 'c'], ['d']]);
    expect(dag.dependents).toEqual({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [], e: [] });
    expect(dag.depth).toBe(3);
    expect(dag.width).toBe(2);
    expect(dag.cycle).toBeUndefined();
  });

  it('puts a task on the level after its deepest dependency', () => {
    const dag = analyzeDag([task('a'), task('b', ['a']), task('c', ['a', 'b'])]);
    expect(dag.levels).toEqual([['a'], ['b'], ['c']]);
  });

  it('adds implicit edges from condition branches', () => {
    const dag = analyzeDag([
      task('gate', [], { type: 'condition', condition: '${true}', on_success: ['yes'], on_failure: ['no'] }),
      task('yes'),
      task('no'),
      task('join', ['yes', 'no']),
    ]);
    expect(dag.dependencies).toEqual({ gate: [], yes: ['gate'], no: ['gate'], join: ['yes', 'no'] });
    expect(dag.roots).toEqual(['gate']);
  });

  it('computes the critical path from declared timeouts', () => {
    const dag = analyzeDag([
      task('a', [], { timeout: 10 }),
      task('slow', ['a'], { timeout: '5m' }),
      task('fast', ['a'], { timeout: '1s' }),
      task('end', ['slow', 'fast'], { timeout: 500 }),
    ]);
    expect(dag.criticalPath).toEqual(['a', 'slow', 'end']);
    expect(dag.criticalPathMs).toBe(10_000 + 300_000 + 500_000);
  });

  it('reports a cycle as a closed path and no order', () => {
    const dag = analyzeDag([
      task('x'),
      task('a', ['c', 'x']),
      task('b', ['a']),
      task('c', ['b']),
      task('after', ['c']),
    ]);
    expect(dag.cycle).toEqual(['a', 'b', 'c', 'a']);
    expect(dag.order).toEqual([]);
  });

  it('orders a 200-task chain', () => {
    const tasks = Array.from({ length: 200 }, (_, i) => task(`t${i}`, i === 0 ? [] : [`t${i - 1}`]));
    const dag = analyzeDag(tasks);
    expect(dag.depth).toBe(200);
    expect(dag.order[199]).toBe('t199');
  });
});

import { DefinitionCache } from './definition-cache';
import type { ExecutionDefinition } from './execution-definition';
import { DEFINITION_IN_JOB_MAX } from './task-job';

const defOf = (executionId: string, extra: Record<string, unknown> = {}) =>
  ({ executionId, tasks: { a: { id: 'a' } }, roots: ['a'], ...extra }) as unknown as ExecutionDefinition;

describe('DefinitionCache', () => {
  it('parses the copy a job carried instead of reading the key, and keeps it', async () => {
    const cache = new DefinitionCache(10);
    const read = jest.fn(async () => JSON.stringify(defOf('r1', { from: 'key' })));
    const def = await cache.load('r1', read, JSON.stringify(defOf('r1', { from: 'job' })));
    expect([def.executionId, (def as unknown as { from: string }).from, def.tasks.a?.id]).toEqual(['r1', 'job', 'a']);
    expect(await cache.load('r1', read)).toBe(def);
    expect(read).not.toHaveBeenCalled();
  });

  it('reads a definition no job carried once, and not a missing one twice', async () => {
    const cache = new DefinitionCache(10);
    const read = jest.fn(async () => JSON.stringify(defOf('r2')));
    const [first, second] = await Promise.all([cache.load('r2', read), cache.load('r2', read)]);
    expect(first).toBe(second);
    expect(read).toHaveBeenCalledTimes(1);
    const gone = jest.fn(async () => null);
    await expect(cache.load('r3', gone)).rejects.toThrow('execution r3 has no definition (expired or never created)');
    // A failed load is not kept: the next call reads again.
    await expect(cache.load('r3', gone)).rejects.toThrow('no definition');
    expect(gone).toHaveBeenCalledTimes(2);
  });

  it('gives the JSON of a run created here to its first jobs only while it is small enough', () => {
    const cache = new DefinitionCache(10);
    const small = defOf('s');
    cache.created(small, JSON.stringify(small));
    expect(cache.textOf(small)).toBe(JSON.stringify(small));
    const big = defOf('b', { pad: 'x'.repeat(DEFINITION_IN_JOB_MAX) });
    cache.created(big, JSON.stringify(big));
    expect(cache.textOf(big)).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
  });

  it('keeps the newest `size` runs', async () => {
    const cache = new DefinitionCache(2);
    for (const id of ['x', 'y', 'z']) cache.created(defOf(id), JSON.stringify(defOf(id)));
    expect([cache.get('x'), cache.get('y'), cache.get('z')].map((d) => d !== undefined)).toEqual([false, true, true]);
    cache.delete('y');
    expect(cache.get('y')).toBeUndefined();
  });
});

import { ExpressionError } from './expression-error';
import { resolveValue } from './resolve-value';

const scope = {
  env: 'prod',
  retries: 3,
  task1: { output: { ids: [7, 8], meta: { ok: true } } },
};

describe('resolveValue', () => {
  it('interpolates every string in nested objects and arrays, keeping whole-expression types', () => {
    const input = {
      url: 'https://api/${env}/items',
      count: '${retries}',
      ids: '${task1.output.ids}',
      nested: { list: ['${retries + 1}', 'plain', 5, null, true], ok: '${task1.output.meta.ok}' },
      label: 'first id ${task1.output.ids[0]}',
    };
    expect(resolveValue(input, scope)).toEqual({
      url: 'https://api/prod/items',
      count: 3,
      ids: [7, 8],
      nested: { list: [4, 'plain', 5, null, true], ok: true },
      label: 'first id 7',
    });
  });

  it('returns a deep copy and leaves the input untouched', () => {
    const input = { a: { b: ['${env}'] }, c: [{ d: 1 }] };
    const output = resolveValue(input, scope) as typeof input;
    expect(input).toEqual({ a: { b: ['${env}'] }, c: [{ d: 1 }] });
    expect(output).not.toBe(input);
    expect(output.a).not.toBe(input.a);
    expect(output.c[0]).not.toBe(input.c[0]);
    expect(output.c[0]).toEqual({ d: 1 });
  });

  it('does not rewrite object keys', () => {
    expect(resolveValue({ '${env}': '${env}' }, scope)).toEqual({ '${env}': 'prod' });
  });

  it('resolves top-level strings and passes other values through', () => {
    expect(resolveValue('${retries * 2}', scope)).toBe(6);
    expect(resolveValue(42, scope)).toBe(42);
    expect(resolveValue(null, scope)).toBeNull();
    expect(resolveValue(undefined, scope)).toBeUndefined();
    const date = new Date(0);
    expect(resolveValue({ when: date }, scope)).toEqual({ when: date });
  });

  it('keeps a "__proto__" key from JSON as plain data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "${env}"}}') as unknown;
    const output = resolveValue(input, scope) as Record<string, unknown>;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.hasOwn(output, '__proto__')).toBe(true);
    expect(output.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('unescapes $${ in strings without expressions', () => {
    expect(resolveValue({ shell: 'echo $${HOME}' }, scope)).toEqual({ shell: 'echo ${HOME}' });
  });

  it('throws ExpressionError for a bad string anywhere', () => {
    expect(() => resolveValue({ a: [{ b: '${nope}' }] }, scope)).toThrow(
      new ExpressionError(`unknown name 'nope' in "nope"`, ''),
    );
  });
});

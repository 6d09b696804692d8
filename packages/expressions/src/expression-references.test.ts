import { ExpressionError } from './expression-error';
import { expressionReferences } from './expression-references';

describe('expressionReferences', () => {
  it.each<[string, { root: string; path: (string | number)[] }[]]>([
    ['name', [{ root: 'name', path: [] }]],
    ['task1.output', [{ root: 'task1', path: ['output'] }]],
    ['task1.output.x[0].y', [{ root: 'task1', path: ['output', 'x', 0, 'y'] }]],
    ['task1.output.path.to[0].field', [{ root: 'task1', path: ['output', 'path', 'to', 0, 'field'] }]],
    ['t["with-dash"][\'q\']', [{ root: 't', path: ['with-dash', 'q'] }]],
    ['t["0"]', [{ root: 't', path: ['0'] }]],
    [
      'a > 0.8 && b == "x"',
      [
        { root: 'a', path: [] },
        { root: 'b', path: [] },
      ],
    ],
    ['1 + 2', []],
    ['"task1.output"', []],
  ])('%s', (source, expected) => {
    expect(expressionReferences(source)).toEqual(expected);
  });

  it('ends the static path at a computed index and collects the index references', () => {
    expect(expressionReferences('task1.output.items[i].name')).toEqual([
      { root: 'task1', path: ['output', 'items'] },
      { root: 'i', path: [] },
    ]);
    expect(expressionReferences('a[b.c][d[0]]')).toEqual([
      { root: 'a', path: [] },
      { root: 'b', path: ['c'] },
      { root: 'd', path: [0] },
    ]);
    expect(expressionReferences('a.list[n - 1]')).toEqual([
      { root: 'a', path: ['list'] },
      { root: 'n', path: [] },
    ]);
    // Once the path is dynamic, later literal keys are not part of it.
    expect(expressionReferences('a[k].b[0]')).toEqual([
      { root: 'a', path: [] },
      { root: 'k', path: [] },
    ]);
  });

  it('does not treat function names as references, but collects their arguments', () => {
    expect(expressionReferences('len(task1.output.items) > min(limit, 10)')).toEqual([
      { root: 'task1', path: ['output', 'items'] },
      { root: 'limit', path: [] },
    ]);
    expect(expressionReferences('default(x, y)')).toEqual([
      { root: 'x', path: [] },
      { root: 'y', path: [] },
    ]);
  });

  it('collects references inside the base of a chain that does not start with a name', () => {
    expect(expressionReferences('parse_json(t1.output.text).items[0]')).toEqual([
      { root: 't1', path: ['output', 'text'] },
    ]);
    expect(expressionReferences('[a, b.c][0]')).toEqual([
      { root: 'a', path: [] },
      { root: 'b', path: ['c'] },
    ]);
    expect(expressionReferences('(x ? y : z).field')).toEqual([
      { root: 'x', path: [] },
      { root: 'y', path: [] },
      { root: 'z', path: [] },
    ]);
  });

  it('walks every operator', () => {
    expect(expressionReferences('!a || -b + c * d ? e : f').map((r) => r.root)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('lists each distinct chain once, in source order', () => {
    expect(expressionReferences('t.a + t.a + t + t.b')).toEqual([
      { root: 't', path: ['a'] },
      { root: 't', path: [] },
      { root: 't', path: ['b'] },
    ]);
  });

  it('returns fresh objects that callers may change', () => {
    const first = expressionReferences('t.a.b');
    first[0]?.path.push('mutated');
    expect(expressionReferences('t.a.b')).toEqual([{ root: 't', path: ['a', 'b'] }]);
  });

  it('throws ExpressionError for invalid expressions', () => {
    expect(() => expressionReferences('a +')).toThrow(ExpressionError);
    expect(() => expressionReferences('a.__proto__.b')).toThrow(`access to '__proto__' is not allowed`);
  });
});

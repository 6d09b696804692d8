import { collectExpressions } from './collect-expressions';
import { ExpressionError } from './expression-error';

describe('collectExpressions', () => {
  it('lists every expression with the JSON pointer of its string', () => {
    const workflow = {
      name: 'plain',
      tasks: [
        { id: 't1', input: { url: 'https://${env}/x', n: 3 } },
        { id: 't2', when: '${t1.output.ok}', input: { text: '${a} and ${b == "}"}' } },
      ],
    };
    expect(collectExpressions(workflow)).toEqual([
      { pointer: '/tasks/0/input/url', source: 'env' },
      { pointer: '/tasks/1/when', source: 't1.output.ok' },
      { pointer: '/tasks/1/input/text', source: 'a' },
      { pointer: '/tasks/1/input/text', source: 'b == "}"' },
    ]);
  });

  it('escapes ~ and / in keys as RFC 6901 requires', () => {
    expect(collectExpressions({ 'a/b': { 'c~d': '${x}', '~1': '${y}' }, '': '${z}' })).toEqual([
      { pointer: '/a~1b/c~0d', source: 'x' },
      { pointer: '/a~1b/~01', source: 'y' },
      { pointer: '/', source: 'z' },
    ]);
  });

  it('starts from the given pointer', () => {
    expect(collectExpressions(['${a}'], '/tasks/2/input')).toEqual([{ pointer: '/tasks/2/input/0', source: 'a' }]);
    expect(collectExpressions('${a}', '/when')).toEqual([{ pointer: '/when', source: 'a' }]);
    expect(collectExpressions('${a}')).toEqual([{ pointer: '', source: 'a' }]);
  });

  it('skips escaped $${, plain values and object keys', () => {
    expect(collectExpressions({ '${key}': 'echo $${HOME}', n: 1, b: true, z: null })).toEqual([]);
  });

  it('returns sources without validating them, so the validator reports them with their pointer', () => {
    expect(collectExpressions({ a: '${}', b: '${1 +}' })).toEqual([
      { pointer: '/a', source: '' },
      { pointer: '/b', source: '1 +' },
    ]);
  });

  it('throws on an unterminated ${ with the pointer in the details', () => {
    let error: unknown;
    try {
      collectExpressions({ tasks: [{ input: 'ok ${a' }] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ExpressionError);
    const expressionError = error as ExpressionError;
    expect(expressionError.message).toBe(`unterminated '\${' at position 3 in "ok \${a"`);
    expect(expressionError.position).toBe(3);
    expect(expressionError.details).toEqual([{ pointer: '/tasks/0/input', message: expressionError.message }]);
  });
});

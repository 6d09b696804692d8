import { ExpressionError } from './expression-error';
import { partiallyResolve } from './partially-resolve';

const scope = { env: 'prod', limit: 10 };
const isKnown = (root: string) => root in scope;

describe('partiallyResolve', () => {
  it('resolves strings whose references are all known and keeps the others verbatim', () => {
    const input = {
      url: 'https://${env}/api',
      limit: '${limit}',
      body: '${task1.output}',
      mixed: '${env}: ${task1.output.count}',
      condition: '${task1.output.score > 0.8 && env == "prod"}',
      constant: '${1 + 2}',
      list: ['${limit * 2}', '${task2.output[0]}', 'plain'],
    };
    expect(partiallyResolve(input, scope, isKnown)).toEqual({
      url: 'https://prod/api',
      limit: 10,
      body: '${task1.output}',
      mixed: '${env}: ${task1.output.count}',
      condition: '${task1.output.score > 0.8 && env == "prod"}',
      constant: 3,
      list: [20, '${task2.output[0]}', 'plain'],
    });
  });

  it('asks about roots only, and checks computed index references too', () => {
    const asked: string[] = [];
    const known = (root: string) => {
      asked.push(root);
      return root !== 'later';
    };
    expect(partiallyResolve('${items[later.index]}', { items: [] }, known)).toBe('${items[later.index]}');
    expect(asked).toEqual(['items', 'later']);
  });

  it('does not count function names as references', () => {
    expect(partiallyResolve('${upper(env)}', scope, isKnown)).toBe('PROD');
  });

  it('leaves the input untouched', () => {
    const input = { a: ['${env}'] };
    partiallyResolve(input, scope, isKnown);
    expect(input).toEqual({ a: ['${env}'] });
  });

  it('still reports invalid expressions', () => {
    expect(() => partiallyResolve({ a: '${task1 +}' }, scope, isKnown)).toThrow(ExpressionError);
    expect(() => partiallyResolve({ a: 'x ${env' }, scope, isKnown)).toThrow(
      `unterminated '\${' at position 2 in "x \${env"`,
    );
  });
});

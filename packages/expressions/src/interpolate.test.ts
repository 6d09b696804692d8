import { ExpressionError } from './expression-error';
import { interpolate } from './interpolate';

const scope = {
  name: 'Ada',
  n: 3,
  score: 0.9,
  flag: false,
  nothing: null,
  missing: undefined,
  obj: { a: 1, b: [true, 'x'] },
  list: [1, 'two', null],
  task1: { output: { path: { to: [{ field: 'deep' }] }, count: 0 } },
};

function errorOf(template: string): ExpressionError {
  try {
    interpolate(template, scope);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`expected "${template}" to throw`);
}

describe('interpolate', () => {
  it('keeps the type of a whole expression', () => {
    expect(interpolate('${n}', scope)).toBe(3);
    expect(interpolate('${ n + 1 }', scope)).toBe(4);
    expect(interpolate('${flag}', scope)).toBe(false);
    expect(interpolate('${nothing}', scope)).toBeNull();
    expect(interpolate('${missing}', scope)).toBeUndefined();
    expect(interpolate('${obj}', scope)).toBe(scope.obj);
    expect(interpolate('${list}', scope)).toBe(scope.list);
    expect(interpolate('${score > 0.8 && name == "Ada"}', scope)).toBe(true);
    expect(interpolate('${task1.output.path.to[0].field}', scope)).toBe('deep');
    expect(interpolate('${task1.output.count}', scope)).toBe(0);
  });

  it('writes embedded values as text', () => {
    expect(interpolate('Hello ${name}!', scope)).toBe('Hello Ada!');
    expect(interpolate('n=${n}, flag=${flag}', scope)).toBe('n=3, flag=false');
    expect(interpolate('[${nothing}]', scope)).toBe('[null]');
    expect(interpolate('obj: ${obj}', scope)).toBe('obj: {"a":1,"b":[true,"x"]}');
    expect(interpolate('list: ${list}', scope)).toBe('list: [1,"two",null]');
    expect(interpolate('${name}${n}', scope)).toBe('Ada3');
    expect(interpolate(' ${n}', scope)).toBe(' 3');
    expect(interpolate('at ${task1.output.path.to[0].field}', scope)).toBe('at deep');
  });

  it('returns plain strings unchanged', () => {
    expect(interpolate('no expressions here', scope)).toBe('no expressions here');
    expect(interpolate('', scope)).toBe('');
    expect(interpolate('costs $5 {ok}', scope)).toBe('costs $5 {ok}');
  });

  it('turns $${ into a literal ${', () => {
    expect(interpolate('literal $${name}', scope)).toBe('literal ${name}');
    expect(interpolate('$${name}', scope)).toBe('${name}');
    expect(interpolate('$${name} is ${name}', scope)).toBe('${name} is Ada');
  });

  it('handles string literals containing braces', () => {
    expect(interpolate('${name == "}"}', scope)).toBe(false);
    expect(interpolate('${"}" + name + "{"}', scope)).toBe('}Ada{');
    expect(interpolate('x${"}"}y', scope)).toBe('x}y');
  });

  it('refuses to embed undefined, naming the expression', () => {
    const error = errorOf('value: ${obj.nope}');
    expect(error.message).toBe(
      'expression "obj.nope" is undefined in "value: ${obj.nope}"; use default(value, fallback) to supply a fallback',
    );
    expect(error.source).toBe('obj.nope');
    expect(interpolate('value: ${default(obj.nope, "none")}', scope)).toBe('value: none');
  });

  it('refuses to embed a value with no text form', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => interpolate('x ${c}', { c: cyclic })).toThrow(
      'expression "c" gave a object that cannot be written as text in "x ${c}"',
    );
  });

  it('reports an unterminated ${', () => {
    expect(errorOf('Hello ${name').message).toBe(`unterminated '\${' at position 6 in "Hello \${name"`);
  });

  it('reports an empty expression', () => {
    expect(errorOf('a ${ } b').message).toBe('invalid expression "": expression is empty');
  });

  it('passes on evaluation errors', () => {
    expect(errorOf('${x}').message).toBe(`unknown name 'x' in "x"`);
    expect(errorOf('hi ${task1.nope.field}').message).toBe(`cannot read 'field' of undefined in "task1.nope.field"`);
    expect(errorOf('${obj.__proto__}').message).toBe(
      `invalid expression "obj.__proto__": access to '__proto__' is not allowed`,
    );
  });
});

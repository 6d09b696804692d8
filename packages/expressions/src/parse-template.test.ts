import { ExpressionError } from './expression-error';
import { hasExpressions, isWholeExpression, parseTemplate } from './parse-template';

describe('parseTemplate', () => {
  it('splits text and expressions, trimming expression sources', () => {
    expect(parseTemplate('Hello ${ name }, you are ${age}!')).toEqual([
      { kind: 'text', text: 'Hello ' },
      { kind: 'expression', source: 'name', start: 6 },
      { kind: 'text', text: ', you are ' },
      { kind: 'expression', source: 'age', start: 25 },
      { kind: 'text', text: '!' },
    ]);
  });

  it('returns no parts for an empty string and one text part for plain text', () => {
    expect(parseTemplate('')).toEqual([]);
    expect(parseTemplate('plain $ text {with} braces $5')).toEqual([
      { kind: 'text', text: 'plain $ text {with} braces $5' },
    ]);
  });

  it('treats $${ as an escaped literal ${', () => {
    expect(parseTemplate('cost: $${price}')).toEqual([{ kind: 'text', text: 'cost: ${price}' }]);
    expect(parseTemplate('$${a} ${b}')).toEqual([
      { kind: 'text', text: '${a} ' },
      { kind: 'expression', source: 'b', start: 6 },
    ]);
    // `$${` is the escape wherever it starts, and a lone `$` is literal.
    expect(parseTemplate('$$${a}')).toEqual([{ kind: 'text', text: '$${a}' }]);
    expect(parseTemplate('$${${a}')).toEqual([
      { kind: 'text', text: '${' },
      { kind: 'expression', source: 'a', start: 3 },
    ]);
    expect(parseTemplate('$$ and $')).toEqual([{ kind: 'text', text: '$$ and $' }]);
  });

  it('finds the closing brace outside string literals', () => {
    expect(parseTemplate('${a == "}"}')).toEqual([{ kind: 'expression', source: 'a == "}"', start: 0 }]);
    expect(parseTemplate("x${a == '}}' ? \"{\" : 'b'}y")).toEqual([
      { kind: 'text', text: 'x' },
      { kind: 'expression', source: `a == '}}' ? "{" : 'b'`, start: 1 },
      { kind: 'text', text: 'y' },
    ]);
    expect(parseTemplate('${"say \\"}\\" " + a}')).toEqual([
      { kind: 'expression', source: '"say \\"}\\" " + a', start: 0 },
    ]);
    expect(parseTemplate('${"it\'s}"}')).toEqual([{ kind: 'expression', source: '"it\'s}"', start: 0 }]);
  });

  it('keeps an empty expression so that parsing it reports the problem', () => {
    expect(parseTemplate('${}')).toEqual([{ kind: 'expression', source: '', start: 0 }]);
  });

  it('throws on an unterminated ${', () => {
    expect(() => parseTemplate('abc ${x')).toThrow(
      new ExpressionError(`unterminated '\${' at position 4 in "abc \${x"`, ''),
    );
    let error: unknown;
    try {
      parseTemplate('ok ${a} then ${b == "}');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ExpressionError);
    expect((error as ExpressionError).message).toBe(`unterminated '\${' at position 13 in "ok \${a} then \${b == "}"`);
    expect((error as ExpressionError).position).toBe(13);
    expect((error as ExpressionError).source).toBe('ok ${a} then ${b == "}');
  });
});

describe('isWholeExpression', () => {
  it.each([
    ['${a}', true],
    ['${ task1.output.path.to[0].field }', true],
    ['${a == "}"}', true],
    ['${a}${b}', false],
    [' ${a}', false],
    ['${a} ', false],
    ['x${a}', false],
    ['$${a}', false],
    ['plain', false],
    ['', false],
    ['${a', false],
  ])('%p is %p', (text, expected) => {
    expect(isWholeExpression(text)).toBe(expected);
  });
});

describe('hasExpressions', () => {
  it.each([
    ['${a}', true],
    ['hello ${name}', true],
    ['plain', false],
    ['', false],
    ['$${escaped}', false],
    ['$5 and {braces}', false],
    ['$${escaped} ${real}', true],
    // Malformed still counts, so it is sent on to interpolation or validation, which report it.
    ['broken ${a', true],
  ])('%p is %p', (text, expected) => {
    expect(hasExpressions(text)).toBe(expected);
  });
});

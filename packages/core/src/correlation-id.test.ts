import { isCorrelationId } from './correlation-id';

describe('isCorrelationId', () => {
  it('takes printable ids up to 200 bytes of UTF-8', () => {
    expect(isCorrelationId('order-42')).toBe(true);
    expect(isCorrelationId('a'.repeat(200))).toBe(true);
    expect(isCorrelationId('é'.repeat(100))).toBe(true); // 200 bytes
    expect(isCorrelationId('注文:42/β')).toBe(true);
    expect(isCorrelationId('run-😀')).toBe(true); // a surrogate pair is one code point
  });

  it('refuses ids over 200 bytes, counted in UTF-8 rather than characters', () => {
    expect(isCorrelationId('a'.repeat(201))).toBe(false);
    expect(isCorrelationId('é'.repeat(101))).toBe(false); // 101 characters, 202 bytes
  });

  it('refuses control characters, whitespace, lone surrogates and the empty id', () => {
    for (const bad of [
      'a\u0000b',
      'a\nb',
      'a\u001bb',
      'a\u007fb',
      'a\u0085b',
      'a b',
      'a\u00a0b',
      '\ud800x',
      'x\udfff',
      '',
    ])
      expect(isCorrelationId(bad)).toBe(false);
  });
});

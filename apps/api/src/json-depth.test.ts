import { jsonDepthExceeded } from './json-depth';

describe('jsonDepthExceeded', () => {
  it('finds the bracket that opens one level too many, in text and in bytes', () => {
    const text = '{"a": [[1], {"b": [2]}]}'; // 4 levels at "b"'s array
    expect(jsonDepthExceeded(text, 4)).toBeUndefined();
    expect(jsonDepthExceeded(text, 3)).toBe(text.indexOf('[2]'));
    expect(jsonDepthExceeded(Buffer.from(text), 3)).toBe(text.indexOf('[2]'));
  });

  it('counts siblings once, not in sum', () => {
    expect(jsonDepthExceeded(`[${'[],'.repeat(10_000)}[]]`, 2)).toBeUndefined();
  });

  it('skips brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeded('["[[[[", "\\"[[[[", "\\\\", "{{{{"]', 1)).toBeUndefined();
    expect(jsonDepthExceeded('["\\\\", [[]]]', 2)).toBe(8);
  });

  it('handles multi-byte UTF-8 in bytes (no byte of it is a bracket or a quote)', () => {
    expect(jsonDepthExceeded(Buffer.from('["é[", "😀", [["ü"]]]'), 2)).toBe(Buffer.from('["é[", "😀", [').length);
  });

  it('stops at the first bracket past the limit', () => {
    const deep = '['.repeat(500_000) + ']'.repeat(500_000);
    expect(jsonDepthExceeded(deep, 128)).toBe(128);
  });
});

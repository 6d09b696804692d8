import { parseJsonReply, truncateText } from './json-reply';

describe('parseJsonReply', () => {
  it('reads plain, fenced and prose-wrapped JSON', () => {
    expect(parseJsonReply('{"a":1}')).toEqual({ value: { a: 1 } });
    expect(parseJsonReply('  [1, 2] \n')).toEqual({ value: [1, 2] });
    expect(parseJsonReply('```json\n{"a": {"b": [1]}}\n```')).toEqual({ value: { a: { b: [1] } } });
    expect(parseJsonReply('```\n{"a":1}\n```')).toEqual({ value: { a: 1 } });
    expect(parseJsonReply('Here you go:\n```json\n{"score": 0.9}\n```\nAnything else?')).toEqual({
      value: { score: 0.9 },
    });
    expect(parseJsonReply('Sure! {"summary": "x", "trends": []} Hope that helps.')).toEqual({
      value: { summary: 'x', trends: [] },
    });
  });

  it('says so when nothing is JSON', () => {
    expect(parseJsonReply('I cannot answer that.')).toBeUndefined();
    expect(parseJsonReply('```json\n{broken\n```')).toBeUndefined();
    expect(parseJsonReply('')).toBeUndefined();
  });

  it('truncates long text for messages', () => {
    expect(truncateText('abc', 5)).toBe('abc');
    expect(truncateText('x'.repeat(600))).toBe(`${'x'.repeat(500)}… (600 chars)`);
  });
});

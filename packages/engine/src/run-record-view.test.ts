import { iso } from './run-record-view';

describe('iso', () => {
  it('turns epoch ms (number or string) into ISO 8601 and nothing into undefined', () => {
    expect(iso(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(iso('1764720000000')).toBe('2025-12-03T00:00:00.000Z');
    expect(iso('1764720000000')).toBe('2025-12-03T00:00:00.000Z');
    expect(iso(1764720000001)).toBe('2025-12-03T00:00:00.001Z');
    expect([iso(undefined), iso(null), iso('')]).toEqual([undefined, undefined, undefined]);
    expect(iso(1764720000001)).toBe('2025-12-03T00:00:00.001Z');
    expect(() => iso('not a time')).toThrow(RangeError);
    expect(iso(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

import { retryDelayMs } from './backoff';

const policy = { maxRetries: 4, initialDelayMs: 200, maxDelayMs: 5_000 };
const headers = (init: Record<string, string>) => new Headers(init);

describe('retryDelayMs', () => {
  it('doubles from the initial delay up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => retryDelayMs(n, undefined, policy))).toEqual([
      200, 400, 800, 1600, 3200, 5000,
    ]);
  });

  it('honours retry-after-ms, retry-after in seconds and as an HTTP date, capped', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryDelayMs(0, headers({ 'retry-after-ms': '750' }), policy, now)).toBe(750);
    expect(retryDelayMs(3, headers({ 'retry-after': '2' }), policy, now)).toBe(2000);
    expect(retryDelayMs(0, headers({ 'retry-after': '0.5' }), policy, now)).toBe(500);
    expect(retryDelayMs(0, headers({ 'retry-after': 'Tue, 01 Jan 2030 00:00:03 GMT' }), policy, now)).toBe(3000);
    expect(retryDelayMs(0, headers({ 'retry-after': '120' }), policy, now)).toBe(5000);
    expect(retryDelayMs(1, headers({ 'retry-after': 'soon' }), policy, now)).toBe(400);
  });
});

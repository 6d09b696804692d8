import { parseDuration, tryParseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    [3600, 3_600_000],
    [0.5, 500],
    ['500ms', 500],
    ['1s', 1000],
    ['5m', 300_000],
    ['3600s', 3_600_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['90', 90_000],
    [' 10s ', 10_000],
  ])('%p is %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([['ten seconds'], ['5 m'], ['-1s'], [-3], ['1y'], [''], [null], [{}], [Number.NaN]])(
    'rejects %p',
    (input) => {
      expect(tryParseDuration(input)).toBeUndefined();
    },
  );

  it('names the value and the accepted forms', () => {
    expect(() => parseDuration('soon', 'timeout')).toThrow(
      'timeout must be a duration: seconds as a number, or a string like 500ms, 1s, 5m, 3600s, 24h; got "soon"',
    );
  });
});

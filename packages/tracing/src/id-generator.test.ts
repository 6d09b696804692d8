import { ChosenIdGenerator } from './id-generator';

describe('ChosenIdGenerator', () => {
  it('makes random non-zero W3C ids, except the one span (and trace) chosen for the next start', () => {
    const ids = new ChosenIdGenerator();
    expect(ids.generateTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(ids.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
    expect(ids.generateSpanId()).not.toBe(ids.generateSpanId());
    const chosen = ids.withIds('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', () => [
      ids.generateSpanId(),
      ids.generateTraceId(),
      ids.generateSpanId(),
    ]);
    expect(chosen.slice(0, 2)).toEqual(['00f067aa0ba902b7', '4bf92f3577b34da6a3ce929d0e0e4736']);
    expect(chosen[2]).not.toBe('00f067aa0ba902b7');
    // A start that throws leaves nothing chosen behind.
    expect(() =>
      ids.withIds('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ids.generateSpanId()).not.toBe('00f067aa0ba902b7');
  });
});

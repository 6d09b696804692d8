import { backoffDelay } from './execution-definition';
import { decide, type EdgeOutcome, edgeOutcome } from './trigger-rules';

describe('edgeOutcome', () => {
  it('maps statuses', () => {
    expect(edgeOutcome('completed', true, undefined, undefined)).toBe('success');
    expect(edgeOutcome('failed', true, undefined, undefined)).toBe('failed');
    expect(edgeOutcome('failed', false, undefined, undefined)).toBe('success');
    expect(edgeOutcome('upstream_failed', true, undefined, undefined)).toBe('failed');
    expect(edgeOutcome('skipped', true, undefined, undefined)).toBe('skipped');
    expect(edgeOutcome('cancelled', true, undefined, undefined)).toBe('skipped');
  });

  it('follows condition branches', () => {
    expect(edgeOutcome('completed', true, 'on_success', true)).toBe('success');
    expect(edgeOutcome('completed', true, 'on_success', false)).toBe('skipped');
    expect(edgeOutcome('completed', true, 'on_failure', false)).toBe('success');
    expect(edgeOutcome('completed', true, 'on_failure', true)).toBe('skipped');
  });
});

describe('decide', () => {
  const cases: [string, EdgeOutcome[], Record<string, string>][] = [
    [
      'all success',
      ['success', 'success'],
      {
        all_success: 'run',
        all_done: 'run',
        one_success: 'run',
        none_failed: 'run',
        none_failed_min_one_success: 'run',
      },
    ],
    [
      'one skipped',
      ['success', 'skipped'],
      {
        all_success: 'skipped',
        all_done: 'run',
        one_success: 'run',
        none_failed: 'run',
        none_failed_min_one_success: 'run',
      },
    ],
    [
      'all skipped',
      ['skipped', 'skipped'],
      {
        all_success: 'skipped',
        all_done: 'run',
        one_success: 'skipped',
        none_failed: 'run',
        none_failed_min_one_success: 'skipped',
      },
    ],
    [
      'one failed',
      ['success', 'failed'],
      {
        all_success: 'upstream_failed',
        all_done: 'run',
        one_success: 'run',
        none_failed: 'upstream_failed',
        none_failed_min_one_success: 'upstream_failed',
      },
    ],
    [
      'failed and skipped',
      ['skipped', 'failed'],
      {
        all_success: 'upstream_failed',
        all_done: 'run',
        one_success: 'upstream_failed',
        none_failed: 'upstream_failed',
        none_failed_min_one_success: 'upstream_failed',
      },
    ],
  ];
  it.each(cases)('%s', (_name, outcomes, expected) => {
    for (const [rule, decision] of Object.entries(expected)) {
      expect([rule, decide({ rule: rule as never, deps: ['a', 'b'] }, outcomes)]).toEqual([rule, decision]);
    }
  });

  it('runs roots', () => {
    expect(decide({ rule: 'all_success', deps: [] }, [])).toBe('run');
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const spec = ['exponential', 100, 500, 0] as const;
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay([...spec], n))).toEqual([100, 200, 400, 500, 500]);
  });

  it('keeps fixed delays fixed', () => {
    expect(backoffDelay(['fixed', 250, 1000, 0], 3)).toBe(250);
  });

  it('only shortens with jitter', () => {
    expect(backoffDelay(['exponential', 1000, 60_000, 0.5], 2, () => 1)).toBe(1000);
    expect(backoffDelay(['exponential', 1000, 60_000, 0.5], 2, () => 0)).toBe(2000);
  });
});

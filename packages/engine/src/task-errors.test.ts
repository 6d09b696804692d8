import { OrchestratorError, PermanentTaskError } from '@orch/errors';
import { attemptEnd, errorText, isPermanent, isTimeout, lockLost, timedOut } from './task-errors';

describe('errorText', () => {
  it('keeps the cause chain, one line per cause', () => {
    const root = new Error('connect ECONNREFUSED 127.0.0.1:9');
    const middle = new OrchestratorError('UPSTREAM_ERROR', 'data-abstractor unreachable', { cause: root });
    const top = new Error('lookup failed', { cause: middle });
    expect(errorText(top)).toBe(
      'lookup failed\ncaused by: data-abstractor unreachable\ncaused by: connect ECONNREFUSED 127.0.0.1:9',
    );
  });

  it('leaves out a cause already in the message, stops on a cycle, and caps the length', () => {
    const inner = new Error('boom');
    expect(errorText(new Error('step failed: boom', { cause: inner }))).toBe('step failed: boom');
    const cyclic = new Error('a');
    cyclic.cause = new Error('b', { cause: cyclic });
    expect(errorText(cyclic)).toBe('a\ncaused by: b');
    const long = errorText(new Error('x'.repeat(5000)));
    expect([long.length, long.endsWith('…')]).toEqual([2001, true]);
  });

  it('reads thrown non-errors', () => {
    expect(errorText('plain')).toBe('plain');
    expect(errorText({ code: 1 })).toBe('{"code":1}');
  });
});

describe('error kinds', () => {
  it('tells permanent failures, timeouts and lost locks apart', () => {
    expect(isPermanent(new PermanentTaskError('no'))).toBe(true);
    expect(isPermanent(new Error('flaky'))).toBe(false);
    expect(isTimeout(new OrchestratorError('TIMEOUT', 'task t timed out after 5 ms'))).toBe(true);
    expect(isTimeout(new Error('timed out'))).toBe(false);
    const timeout = new OrchestratorError('TIMEOUT', 'late');
    expect([attemptEnd(timeout), attemptEnd(new Error('x')), timedOut(timeout), timedOut(new Error('x'))]).toEqual([
      'timed_out',
      'failed',
      'timed_out',
      undefined,
    ]);
    expect(lockLost(new Error('Missing lock for job 12. moveToFinished'))).toBe(true);
    expect(lockLost(new Error('lock'))).toBe(false);
  });
});

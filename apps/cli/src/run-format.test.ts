import type { ExecutionStatus } from '@orch/api-client';
import type { CliIo } from './cli-io';
import { applyEvent, emptyView, progressLine, renderFrame } from './progress-view';
import { printStatus } from './run-format';

function capture(): CliIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(`! ${l}`), env: {} };
}

const failedRun = {
  execution_id: 'run-9',
  status: 'failed',
  workflow: { id: 'wf' },
  created_at: '2026-01-01T00:00:00.000Z',
  error: 'task fetch failed: lookup failed',
  progress: { pending: 0, running: 0, completed: 1, failed: 1, skipped: 0, upstream_failed: 1, cancelled: 1, total: 4 },
  tasks: [
    { id: 'prep', type: 'transform', status: 'completed', attempts: 1 },
    {
      id: 'fetch',
      type: 'data',
      status: 'failed',
      attempts: 3,
      error: 'lookup failed\ncaused by: ECONNREFUSED',
      history: [
        {
          attempt: 1,
          worker: 'w1',
          status: 'lost',
          started_at: '2026-01-01T00:00:01.000Z',
          ended_at: '2026-01-01T00:00:09.000Z',
          duration_ms: 8000,
        },
        {
          attempt: 2,
          worker: 'w2',
          status: 'timed_out',
          started_at: '2026-01-01T00:00:09.000Z',
          ended_at: '2026-01-01T00:00:10.000Z',
          duration_ms: 1000,
          error: 'task fetch timed out after 1000 ms',
        },
        {
          attempt: 3,
          worker: 'w2',
          status: 'failed',
          started_at: '2026-01-01T00:00:11.000Z',
          ended_at: '2026-01-01T00:00:11.500Z',
          duration_ms: 500,
          error: 'lookup failed\ncaused by: ECONNREFUSED',
        },
      ],
    },
    { id: 'side', type: 'exec', status: 'cancelled', attempts: 1 },
    { id: 'after', type: 'transform', status: 'upstream_failed', attempts: 0 },
  ],
} as ExecutionStatus;

describe('status', () => {
  it('shows a failed run’s progress as it is, not as a full bar', () => {
    const io = capture();
    printStatus(io, failedRun);
    expect(io.lines.find((l) => l.startsWith('  status'))).toBe(
      `  status       failed  [${'█'.repeat(5)}${'░'.repeat(15)}] 1/4 (1 failed, 1 cancelled, 1 upstream_failed)`,
    );
  });

  it('lists every attempt of a task that ran more than once, with its worker and the error’s cause chain', () => {
    const io = capture();
    printStatus(io, failedRun);
    const from = io.lines.indexOf('attempts');
    expect(io.lines.slice(from, from + 5)).toEqual([
      'attempts',
      '  fetch #1   lost          8.00s  on w1',
      '        #2   timed_out     1.00s  on w2  task fetch timed out after 1000 ms',
      '        #3   failed        0.50s  on w2  lookup failed',
      '             caused by: ECONNREFUSED',
    ]);
    expect(io.lines.find((l) => l.startsWith('  fetch '))).toMatch(/failed +#3 .*lookup failed$/);
  });
});

describe('watch progress', () => {
  it('counts only what succeeded in the bar and names the rest', () => {
    expect(progressLine(['completed', 'skipped', 'failed', 'cancelled'], 8)).toBe(
      '[████░░░░] 2/4 (1 failed, 1 cancelled)',
    );
    expect(progressLine(['completed', 'completed'], 4)).toBe('[████] 2/2');
  });

  it('says when an attempt was lost with its worker, and the frame of a failed run is not full', () => {
    const view = emptyView(failedRun);
    const at = '2026-01-01T00:00:01.000Z';
    const lines = [
      applyEvent(view, { id: '1-0', type: 'workflow.started', at }),
      applyEvent(view, { id: '2-0', type: 'task.started', at, task: 'fetch', attempt: 1, worker: 'w1' }),
      applyEvent(view, { id: '3-0', type: 'task.stalled', at, task: 'fetch', attempt: 1, worker: 'w1' }),
      applyEvent(view, { id: '4-0', type: 'task.started', at, task: 'fetch', attempt: 2, worker: 'w2' }),
      applyEvent(view, { id: '5-0', type: 'task.failed', at, task: 'fetch', attempt: 2, error: 'boom' }),
      applyEvent(view, { id: '6-0', type: 'workflow.failed', at, error: 'boom' }),
    ].flat();
    expect(lines).toContain('fetch: attempt 1 lost with worker w1; it runs again');
    const frame = renderFrame(view, { now: Date.parse(at), color: false, width: 120, maxTasks: 10 });
    expect(frame[1]).toMatch(/^\[░{24}\] 0\/4 \(1 failed\)/);
  });
});

import type { AnyExecutionEvent, EventType, ExecutionStatus } from '@orch/api-client';
import { applyEvent, emptyView, formatMs, mergeRecord, renderFrame } from './progress-view';

const record = {
  execution_id: 'run-1',
  status: 'running',
  workflow: { id: 'wf' },
  created_at: '2026-01-01T00:00:00.000Z',
  tasks: [
    { id: 'fetch', type: 'data', status: 'pending', attempts: 0 },
    { id: 'review', type: 'approval', status: 'pending', attempts: 0 },
  ],
} as ExecutionStatus;
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const event = (type: EventType, s: number, extra: Partial<AnyExecutionEvent> = {}): AnyExecutionEvent => ({
  id: `${s}-0`,
  type,
  at: at(s),
  ...extra,
});

describe('progress view', () => {
  it('turns events into plain lines and state', () => {
    const view = emptyView(record);
    const lines = [
      event('workflow.created', 0),
      event('workflow.started', 0),
      event('task.started', 1, { task: 'fetch', attempt: 1 }),
      event('task.retrying', 2, { task: 'fetch', attempt: 1, error: 'boom' }),
      event('task.started', 3, { task: 'fetch', attempt: 2 }),
      event('task.completed', 5, { task: 'fetch', attempt: 2 }),
      event('task.started', 5, { task: 'review', attempt: 1 }),
    ].flatMap((e) => applyEvent(view, e));
    expect(lines).toEqual([
      'run started',
      'fetch: running',
      'fetch: attempt 1 failed, retrying: boom',
      'fetch: running (attempt 2)',
      'fetch: completed in 2.00s [1/2]',
      'review: running',
    ]);
    const waiting = {
      ...record,
      tasks: [record.tasks[0], { ...record.tasks[1], waiting_for: { kind: 'approval', approvers: ['ann'] } }],
    };
    expect(mergeRecord(view, waiting as typeof record)).toEqual(['review: waiting for approval by ann']);
    expect(mergeRecord(view, waiting as typeof record)).toEqual([]);
    const frame = renderFrame(view, { now: Date.parse(at(9)), color: false, width: 60, maxTasks: 10 });
    expect(frame[0]).toBe('run run-1  wf  RUNNING');
    expect(frame[1]).toBe(`[${'█'.repeat(12)}${'░'.repeat(12)}] 1/2  9.00s`);
    expect(frame[2]).toMatch(/^ {2}✓ fetch {2}completed {7}#2 {4}2\.00s$/);
    expect(frame[3]).toMatch(/^ {2}⏸ review waiting .*4\.00s {2}waiting for approv…$/);
    expect(frame[3]).toHaveLength(59);
    expect(applyEvent(view, event('task.approved', 10, { task: 'review' }))).toEqual(['review: approved']);
    expect(applyEvent(view, event('workflow.failed', 11, { error: 'x' }))).toEqual([]);
    expect(view).toMatchObject({ status: 'failed', error: 'x' });
  });

  it('summarises tasks that do not fit, keeping active ones', () => {
    const many = {
      ...record,
      tasks: Array.from({ length: 10 }, (_, i) => ({ id: `t${i}`, type: 'data', status: 'pending', attempts: 0 })),
    } as ExecutionStatus;
    const view = emptyView(many);
    applyEvent(view, event('task.started', 1, { task: 't9' }));
    const frame = renderFrame(view, { now: Date.parse(at(2)), color: true, width: 80, maxTasks: 3 });
    expect(frame).toHaveLength(2 + 3 + 1);
    expect(frame[2]).toContain('t0');
    expect(frame[4]).toContain('t9');
    expect(frame[4]?.startsWith('\x1b[36m')).toBe(true);
    expect(frame[5]).toBe('  … 7 more tasks (0 finished)');
  });

  it('formats durations', () => {
    expect([412, 12_340, 125_000, 3_720_000].map(formatMs)).toEqual(['0.41s', '12.3s', '2m05s', '1h02m']);
  });
});

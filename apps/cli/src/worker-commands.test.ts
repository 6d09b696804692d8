import type { Worker } from '@orch/api-client';
import { workerTable } from './worker-commands';

const worker = (over: Partial<Worker>): Worker => ({
  name: 'w1',
  host: 'box',
  pid: 41,
  queues: ['default'],
  task_types: ['http'],
  concurrency: 50,
  active: 2,
  started_at: '2026-01-01T00:00:00.000Z',
  last_heartbeat_at: '2026-01-01T00:00:10.000Z',
  heartbeat_ms: 5000,
  version: '0.1.0',
  kind: 'stock',
  status: 'live',
  ...over,
});

it('prints one aligned row per worker, with its queues, load and heartbeat age', () => {
  const now = Date.parse('2026-01-01T00:00:12.000Z');
  const rows = workerTable(
    [worker({}), worker({ name: 'gpu-pool-7', queues: ['gpu', 'special'], kind: 'sdk', status: 'lost', active: 0 })],
    now,
  );
  expect(rows).toEqual([
    'NAME        STATUS  KIND   QUEUES       ACTIVE  HEARTBEAT  HOST:PID',
    'w1          live    stock  default      2/50    2s ago     box:41',
    'gpu-pool-7  lost    sdk    gpu,special  0/50    2s ago     box:41',
  ]);
});

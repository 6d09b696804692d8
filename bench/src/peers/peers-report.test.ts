import { SseParser } from './http';
import type { WindowLoad } from './load';
import { buildRows, type Measurement, renderLoad, renderPeersTable, type WorkloadResult } from './peers-report';
import { listeningInodes, parseStat } from './proc-tree';
import { durabilitySettings } from './restate';
import { parseArgs } from './run-peers';
import type { SystemName } from './system';
import type { WorkloadKey } from './workloads';

const quiet: WindowLoad = {
  seconds: 1,
  cpuSeconds: {},
  cores: { orchestrator: 1, restate: 0.01, dbos: 0.01 },
  benchCores: 0.1,
  foreignCores: 0,
  stealCores: 0,
};

function m(
  workload: WorkloadKey,
  variant: string,
  result: Partial<Record<string, number>>,
  rep = 1,
  load = quiet,
): Measurement {
  const system = (variant.startsWith('orchestrator') ? 'orchestrator' : variant) as SystemName;
  return { rep, workload, variant, system, result: result as unknown as WorkloadResult, load };
}

describe('buildRows', () => {
  it('takes medians over repetitions and compares against the best peer in the right direction', () => {
    const ms = [
      m('a', 'orchestrator', { p50: 6, p99: 15 }, 1),
      m('a', 'orchestrator', { p50: 2, p99: 9 }, 2),
      m('a', 'orchestrator', { p50: 4, p99: 12 }, 3),
      m('a', 'restate', { p50: 6, p99: 14 }),
      m('a', 'dbos', { p50: 8, p99: 11 }),
      m('b', 'orchestrator', { perSecond: 800 }),
      m('b', 'restate', { perSecond: 400 }),
      m('b', 'dbos', { perSecond: 300 }),
    ];
    const rows = buildRows(ms);
    const p50 = rows.find((r) => r.workload.includes('p50') && !r.workload.includes('bus'));
    expect(p50?.orchestrator).toBe('4.0 (2.0-6.0) ms');
    // latency: lower wins, so the ratio is best peer / ours = 6 / 4
    expect(p50?.vsBest).toBe('1.50x (Restate)');
    expect(p50?.met).toBe(false); // 4 > 0.5 x 6
    const p99 = rows.find((r) => r.workload === '(a) ... p99');
    expect(p99?.vsBest).toBe('0.92x (DBOS)'); // 11 / 12
    const diamond = rows.find((r) => r.workload.startsWith('(b) diamond'));
    expect(diamond?.vsBest).toBe('2.00x (Restate)'); // rates: ours / best = 800 / 400
    expect(diamond?.met).toBe(true);
    // no bus measurements, no fan-out: those rows are left out
    expect(rows.some((r) => r.workload.includes('bus'))).toBe(false);
    expect(rows.some((r) => r.workload.startsWith('(c)'))).toBe(false);
  });

  it('names the fan-out width that ran and judges the flat-out goals', () => {
    const flat = (accepted: number, inWindow: number, cpu: number) => ({
      acceptedPerSecond: accepted,
      completedInWindowPerSecond: inWindow,
      keptUp: inWindow / accepted,
      cpuMsPerRun: cpu,
    });
    const rows = buildRows([
      m('c', 'orchestrator', { ms: 40, width: 100 }),
      m('c', 'restate', { ms: 300, width: 100 }),
      m('d', 'orchestrator', flat(1000, 950, 2)),
      m('d', 'restate', flat(900, 600, 1.8)),
      m('d', 'dbos', flat(300, 290, 5)),
    ]);
    const fan = rows.find((r) => r.workload.startsWith('(c)'));
    expect(fan?.workload).toBe('(c) fan-out 1 -> 100 -> 1, time to done');
    expect(fan?.met).toBe(true); // 40 x 5 <= 300
    expect(rows.find((r) => r.workload.includes('runs/s accepted'))?.met).toBe(false); // 1000 < 2 x 900
    expect(rows.find((r) => r.workload.includes('/ accepted'))?.met).toBe(true); // 0.95 >= 0.9
    expect(rows.find((r) => r.workload.startsWith('CPU'))?.vsBest).toBe('0.90x (Restate)');
    const table = renderPeersTable(rows);
    expect(table.split('\n')[0]).toContain('| workload');
    expect(table).toContain('| yes');
  });

  it('marks a workload run on a busy machine', () => {
    const busy = { ...quiet, foreignCores: 0.6 };
    const text = renderLoad([m('a', 'restate', { p50: 1, p99: 2 }, 1, busy), m('a', 'dbos', { p50: 1, p99: 2 })]);
    expect(text).toMatch(/\(a\) restate .*machine was busy/);
    expect(text).not.toMatch(/\(a\) dbos .*busy/);
  });
});

describe('SseParser', () => {
  it('returns whole events across chunk boundaries and skips comments and retry lines', () => {
    const parser = new SseParser();
    expect(parser.push('retry: 3000\n\nid: 1-0\nevent: task.comp')).toEqual([]);
    expect(
      parser.push('leted\ndata: {"a":1}\n\n: heartbeat\n\nid: 2-0\nevent: workflow.completed\ndata: {}\n\n'),
    ).toEqual([
      { id: '1-0', event: 'task.completed', data: '{"a":1}' },
      { id: '2-0', event: 'workflow.completed', data: '{}' },
    ]);
  });
});

describe('/proc parsing', () => {
  it('reads pid, parent, CPU and start time past a command name with spaces and parentheses', () => {
    const text = '4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 500 0 0 0 250 50 7 3 20 0 1 0 98765 1000 100';
    expect(parseStat(4242, text)).toEqual({ pid: 4242, state: 'S', ppid: 17, self: 3, reaped: 0.1, start: 98765 });
  });

  it('finds the inode of a listening socket by port, ignoring connected ones', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0 100 0 0 10 0',
      '   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 31338 1 0 20 4 30 10 -1',
      '   2: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31339 1 0 100 0 0 10 0',
    ].join('\n');
    expect([...listeningInodes(8080, [table])]).toEqual(['31337']);
    expect(listeningInodes(9999, [table]).size).toBe(0);
  });
});

describe('durabilitySettings', () => {
  it('keeps the keys that say what is fsynced, by section', () => {
    const toml = [
      'default-replication = 1',
      'cluster-name = "localcluster"',
      '[bifrost]',
      'default-provider = "replicated"',
      '[log-server]',
      'rocksdb-disable-wal-fsync = false',
      'rocksdb-block-size = "64.0 KiB"',
    ].join('\n');
    expect(durabilitySettings(toml)).toEqual({
      'default-replication': '1',
      'bifrost.default-provider': 'replicated',
      'log-server.rocksdb-disable-wal-fsync': 'false',
    });
  });
});

describe('parseArgs', () => {
  it('defaults to 3 repetitions of everything, 1 in quick mode, and refuses unknown names', () => {
    expect(parseArgs([])).toMatchObject({ reps: 3, quick: false, only: ['a', 'b', 'c', 'd'] });
    expect(parseArgs(['--quick', '--systems', 'orchestrator'])).toMatchObject({ reps: 1, systems: ['orchestrator'] });
    expect(() => parseArgs(['--only', 'a,e'])).toThrow('--only: unknown e (choose from a, b, c, d)');
    expect(() => parseArgs(['--fast'])).toThrow('unknown argument --fast');
  });
});

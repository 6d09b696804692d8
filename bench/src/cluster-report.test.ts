import type { ClusterWindow } from './case-cluster';
import { clusterJson, renderClusterTable, type TopologyResult } from './cluster-report';

const window = (perSecond: number, nodeCpuMs: number[], nodeCommands: number[]): ClusterWindow => ({
  units: 1000,
  ms: 1000,
  perSecond,
  nodeCpuMs,
  nodeCommands,
  processCpuMs: { workers: 500, bench: 10 },
  foreignCores: 0,
});

const topology = (key: string, roles: ('primary' | 'replica')[], wide: ClusterWindow[]): TopologyResult => ({
  key,
  label: key,
  partitions: 16,
  nodes: roles.map((role, i) => ({ port: 1000 + i, role, partitions: role === 'primary' ? [i] : [] })),
  windows: { wide, random: [], submit: [], http: [] },
});

describe('cluster report', () => {
  const standalone = topology(
    'standalone',
    ['primary'],
    [window(1000, [200], [60_000]), window(1200, [220], [60_000])],
  );
  const one = topology('one', ['primary'], [window(900, [250], [59_000]), window(1100, [250], [59_000])]);
  // Three primaries and one replica: the replica's CPU and commands are not the primaries'.
  const three = topology(
    'three',
    ['primary', 'primary', 'primary', 'replica'],
    [
      window(1800, [100, 100, 200, 999], [20_000, 20_000, 20_000, 50_000]),
      window(2200, [100, 100, 200, 999], [20_000, 20_000, 20_000, 50_000]),
    ],
  );

  it('splits Redis CPU over the primaries only and sums their commands per task', () => {
    type Median = { median: number };
    type Figures = { primaryCpuShares: string } & Record<string, Median>;
    const json = clusterJson([standalone, one, three]) as Record<string, { workloads: Record<string, Figures> }>;
    const wide = json.three?.workloads.wide as Figures;
    expect(wide.primaryCpuShares).toBe('25% / 25% / 50%');
    expect(wide.commandsPerUnit?.median).toBe(60);
    expect(wide.redisCpuPerUnit?.median).toBeCloseTo(0.4);
    expect(wide.replicaCpuPerUnit?.median).toBeCloseTo(0.999);
    expect(wide.busiestCores?.median).toBeCloseTo(0.2);
    expect(json.one?.workloads.random).toBeUndefined();
  });

  it('prints per-repetition ratios 3p / 1p and cluster / standalone', () => {
    const table = renderClusterTable([standalone, one, three]);
    const rate = table.split('\n').find((l) => l.startsWith('| throughput, wide batch')) ?? '';
    // 1800/900 and 2200/1100 -> 2.00; 900/1000 and 1100/1200 -> 0.90 and 0.92; 1800/1000 and 2200/1200 -> 1.8, 1.83.
    expect(rate.split('|').map((c) => c.trim())).toEqual([
      '',
      'throughput, wide batch, tasks/s',
      '1,100 (1,000-1,200) tasks/s',
      '1,000 (900-1,100) tasks/s',
      '2,000 (1,800-2,200) tasks/s',
      '2.00 (2.00-2.00) x',
      '0.91 (0.90-0.92) x',
      '1.82 (1.80-1.83) x',
      '',
    ]);
    expect(table).toContain('25% / 25% / 50% (partitions 1/1/1)');
  });
});

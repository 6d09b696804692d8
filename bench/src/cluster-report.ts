import { fmt, summaryJson } from './bench-case';
import type { ClusterWindow } from './case-cluster';
import { renderGrid } from './report';
import { type Summary, summarize } from './stats';

export type Workload = 'wide' | 'random' | 'submit' | 'http';

/** What one topology measured over the repetitions. */
export interface TopologyResult {
  key: string;
  label: string;
  partitions: number;
  nodes: { port: number; role: 'primary' | 'replica'; partitions: number[] }[];
  windows: Record<Workload, ClusterWindow[]>;
}

export const WORKLOADS: { key: Workload; label: string; unit: string; per: string; client: string }[] = [
  { key: 'wide', label: 'throughput, wide batch', unit: 'tasks/s', per: 'task', client: 'workers' },
  { key: 'random', label: 'throughput, random batch', unit: 'tasks/s', per: 'task', client: 'workers' },
  { key: 'submit', label: 'starts, engine.submit', unit: 'starts/s', per: 'start', client: 'bench' },
  { key: 'http', label: 'starts, HTTP API', unit: 'starts/s', per: 'start', client: 'api' },
];

const primaryIdx = (t: TopologyResult) => t.nodes.flatMap((n, i) => (n.role === 'primary' ? [i] : []));
const replicaIdx = (t: TopologyResult) => t.nodes.flatMap((n, i) => (n.role === 'replica' ? [i] : []));
const sumAt = (values: number[], idx: number[]) => idx.reduce((s, i) => s + (values[i] ?? 0), 0);

/** Per-repetition figures of one window. */
function figures(t: TopologyResult, w: ClusterWindow, client: string) {
  const p = primaryIdx(t);
  const primaryCpu = sumAt(w.nodeCpuMs, p);
  return {
    rate: w.perSecond,
    redisCpuPerUnit: primaryCpu / w.units,
    replicaCpuPerUnit: sumAt(w.nodeCpuMs, replicaIdx(t)) / w.units,
    commandsPerUnit: sumAt(w.nodeCommands, p) / w.units,
    shares: p.map((i) => (w.nodeCpuMs[i] ?? 0) / primaryCpu),
    busiestCores: Math.max(...p.map((i) => (w.nodeCpuMs[i] ?? 0) / w.ms)),
    redisCores: primaryCpu / w.ms,
    clientCpuPerUnit: (w.processCpuMs[client] ?? Number.NaN) / w.units,
    foreignCores: w.foreignCores,
    p50: w.p50 ?? Number.NaN,
    p99: w.p99 ?? Number.NaN,
  };
}

type Figures = ReturnType<typeof figures>;
type Scalar = Exclude<keyof Figures, 'shares'>;

function series(t: TopologyResult, workload: (typeof WORKLOADS)[number]): Figures[] {
  return (t.windows[workload.key] ?? []).map((w) => figures(t, w, workload.client));
}

/** Median share per primary over the repetitions, as `37% / 32% / 31%`. */
function split(list: Figures[]): string {
  const n = list[0]?.shares.length ?? 0;
  if (list.length === 0) return 'n/a';
  return Array.from(
    { length: n },
    (_, i) => `${Math.round(summarize(list.map((f) => f.shares[i] ?? 0)).median * 100)}%`,
  ).join(' / ');
}

/** Each repetition's a/b, over the repetitions both have. */
function ratio(a: Figures[], b: Figures[], key: Scalar): Summary {
  const n = Math.min(a.length, b.length);
  return summarize(Array.from({ length: n }, (_, i) => (a[i]?.[key] ?? Number.NaN) / (b[i]?.[key] ?? Number.NaN)));
}

/**
 * The table: one column per topology, then the ratios 3-primary / 1-primary and cluster / standalone, all on
 * per-repetition pairs (repetitions are interleaved over the topologies, so drift hits them alike).
 */
export function renderClusterTable(results: TopologyResult[]): string {
  const [standalone, one, three] = results;
  const headers = ['figure', ...results.map((t) => t.label), '3p / 1p', '1p / standalone', '3p / standalone'];
  const rows: string[][] = [];
  const line = (
    name: string,
    key: Scalar,
    fmtOne: (s: Summary) => string,
    workload: (typeof WORKLOADS)[number],
    ratios = true,
  ) => {
    const all = results.map((t) => series(t, workload));
    const cells = all.map((list) => fmtOne(summarize(list.map((f) => f[key]))));
    const r = (a?: TopologyResult, b?: TopologyResult) =>
      a && b && ratios ? fmt(ratio(series(a, workload), series(b, workload), key), 'x', 2) : '';
    rows.push([name, ...cells, r(three, one), r(one, standalone), r(three, standalone)]);
  };
  for (const w of WORKLOADS) {
    if (results.every((t) => (t.windows[w.key] ?? []).length === 0)) continue;
    line(`${w.label}, ${w.unit}`, 'rate', (s) => fmt(s, w.unit), w);
    if (w.per === 'start') {
      line(`  ${w.label}, p50 ms`, 'p50', (s) => fmt(s, 'ms'), w);
      line(`  ${w.label}, p99 ms`, 'p99', (s) => fmt(s, 'ms'), w);
    }
    line(`  redis CPU ms/${w.per} (all primaries)`, 'redisCpuPerUnit', (s) => fmt(s, 'ms', 3), w);
    rows.push([
      `  redis CPU split over primaries`,
      ...results.map((t) => {
        const counts = t.nodes.filter((n) => n.role === 'primary').map((n) => n.partitions.length);
        return counts.length > 1 ? `${split(series(t, w))} (partitions ${counts.join('/')})` : '100%';
      }),
      '',
      '',
      '',
    ]);
    line(`  redis cores, busiest primary`, 'busiestCores', (s) => fmt(s, '', 2), w);
    line(`  redis commands/${w.per} (all primaries)`, 'commandsPerUnit', (s) => fmt(s, '', 1), w);
    line(`  ${w.client} CPU ms/${w.per}`, 'clientCpuPerUnit', (s) => fmt(s, 'ms', 3), w);
    line(`  other processes' cores (machine load)`, 'foreignCores', (s) => fmt(s, '', 2), w, false);
    if (results.some((t) => replicaIdx(t).length > 0)) {
      rows.push([
        `  replica CPU ms/${w.per} (all replicas)`,
        ...results.map((t) =>
          replicaIdx(t).length > 0 ? fmt(summarize(series(t, w).map((f) => f.replicaCpuPerUnit)), 'ms', 3) : '-',
        ),
        '',
        '',
        '',
      ]);
    }
  }
  return renderGrid(headers, rows);
}

/** The JSON form: per topology and workload, each figure's summary and the raw windows. */
export function clusterJson(results: TopologyResult[]): Record<string, unknown> {
  return Object.fromEntries(
    results.map((t) => [
      t.key,
      {
        label: t.label,
        partitions: t.partitions,
        nodes: t.nodes,
        workloads: Object.fromEntries(
          WORKLOADS.filter((w) => (t.windows[w.key] ?? []).length > 0).map((w) => {
            const list = series(t, w);
            const keys: Scalar[] = ['rate', 'p50', 'p99', 'redisCpuPerUnit', 'replicaCpuPerUnit'];
            keys.push('commandsPerUnit', 'busiestCores', 'redisCores', 'clientCpuPerUnit', 'foreignCores');
            return [
              w.key,
              {
                unit: w.unit,
                ...Object.fromEntries(keys.map((k) => [k, summaryJson(summarize(list.map((f) => f[k])))])),
                primaryCpuShares: split(list),
                windows: t.windows[w.key],
              },
            ];
          }),
        ),
      },
    ]),
  );
}

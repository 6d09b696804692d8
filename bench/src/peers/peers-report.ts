import { fmt, summaryJson } from '../bench-case';
import { type Summary, summarize } from '../stats';
import { isBusy, type WindowLoad } from './load';
import type { SystemName } from './system';
import type { FanoutResult, FlatOutResult, LatencyResult, RateResult, WorkloadKey } from './workloads';

export type WorkloadResult = LatencyResult | RateResult | FanoutResult | FlatOutResult;

/** One workload run on one variant in one repetition. */
export interface Measurement {
  rep: number;
  workload: WorkloadKey;
  variant: string;
  system: SystemName;
  result: WorkloadResult;
  load: WindowLoad;
}

type Peer = 'restate' | 'dbos';

interface RowSpec {
  label: string;
  workload: WorkloadKey;
  ours: 'orchestrator' | 'orchestrator-bus' | 'orchestrator-sse';
  metric: (r: WorkloadResult) => number;
  unit: string;
  digits?: number;
  better: 'lower' | 'higher';
  /** The goal of issue #18 and whether the medians meet it. */
  goal?: { text: string; met(ours: number, peers: Partial<Record<Peer, number>>): boolean | undefined };
}

const p50 = (r: WorkloadResult) => (r as LatencyResult).p50;
const p99 = (r: WorkloadResult) => (r as LatencyResult).p99;
const rate = (r: WorkloadResult) => (r as RateResult).perSecond;
const fanMs = (r: WorkloadResult) => (r as FanoutResult).ms;
const flat = (k: keyof FlatOutResult) => (r: WorkloadResult) => Number((r as FlatOutResult)[k]);
const best = (peers: Partial<Record<Peer, number>>, better: 'lower' | 'higher') => {
  const values = Object.values(peers).filter((v): v is number => Number.isFinite(v));
  if (values.length === 0) return undefined;
  return better === 'lower' ? Math.min(...values) : Math.max(...values);
};
const vsRestate =
  (factor: number, better: 'lower' | 'higher') => (ours: number, peers: Partial<Record<Peer, number>>) =>
    peers.restate === undefined
      ? undefined
      : better === 'higher'
        ? ours >= factor * peers.restate
        : ours * factor <= peers.restate;

export const ROWS: RowSpec[] = [
  {
    label: '(a) 2-step chain, 1 client, submit -> result p50 (HTTP ?wait=)',
    workload: 'a',
    ours: 'orchestrator',
    metric: p50,
    unit: 'ms',
    digits: 1,
    better: 'lower',
    goal: {
      text: '<= 0.5x best peer',
      met: (ours, peers) => {
        const b = best(peers, 'lower');
        return b === undefined ? undefined : ours <= 0.5 * b;
      },
    },
  },
  { label: '(a) ... p99', workload: 'a', ours: 'orchestrator', metric: p99, unit: 'ms', digits: 1, better: 'lower' },
  {
    label: '(a) ... p50 submit, then the SSE event stream',
    workload: 'a',
    ours: 'orchestrator-sse',
    metric: p50,
    unit: 'ms',
    digits: 1,
    better: 'lower',
  },
  {
    label: '(a) ... p99 submit, then the SSE event stream',
    workload: 'a',
    ours: 'orchestrator-sse',
    metric: p99,
    unit: 'ms',
    digits: 1,
    better: 'lower',
  },
  {
    label: '(a) ... p50 via the Redis bus',
    workload: 'a',
    ours: 'orchestrator-bus',
    metric: p50,
    unit: 'ms',
    digits: 1,
    better: 'lower',
  },
  {
    label: '(a) ... p99 via the Redis bus',
    workload: 'a',
    ours: 'orchestrator-bus',
    metric: p99,
    unit: 'ms',
    digits: 1,
    better: 'lower',
  },
  {
    label: '(b) diamond A -> {B, C} -> D, 20 clients, executions/s',
    workload: 'b',
    ours: 'orchestrator',
    metric: rate,
    unit: '/s',
    better: 'higher',
    goal: { text: '>= 2x Restate', met: vsRestate(2, 'higher') },
  },
  {
    label: '(b) ... via the Redis bus',
    workload: 'b',
    ours: 'orchestrator-bus',
    metric: rate,
    unit: '/s',
    better: 'higher',
  },
  {
    label: '(c) fan-out 1 -> 1,000 -> 1, time to done',
    workload: 'c',
    ours: 'orchestrator',
    metric: fanMs,
    unit: 'ms',
    better: 'lower',
    goal: { text: '>= 5x faster than Restate', met: vsRestate(5, 'lower') },
  },
  {
    label: '(c) ... via the Redis bus',
    workload: 'c',
    ours: 'orchestrator-bus',
    metric: fanMs,
    unit: 'ms',
    better: 'lower',
  },
  {
    label: '(d) 5-task runs flat out: runs/s accepted',
    workload: 'd',
    ours: 'orchestrator',
    metric: flat('acceptedPerSecond'),
    unit: '/s',
    better: 'higher',
    goal: { text: '>= 2x Restate', met: vsRestate(2, 'higher') },
  },
  {
    label: '(d) ... runs/s completed within the window',
    workload: 'd',
    ours: 'orchestrator',
    metric: flat('completedInWindowPerSecond'),
    unit: '/s',
    better: 'higher',
  },
  {
    label: '(d) ... completed within the window / accepted',
    workload: 'd',
    ours: 'orchestrator',
    metric: flat('keptUp'),
    unit: '',
    digits: 2,
    better: 'higher',
    goal: { text: '>= 0.9', met: (ours) => ours >= 0.9 },
  },
  {
    label: 'CPU ms per 5-task run, all processes of the system',
    workload: 'd',
    ours: 'orchestrator',
    metric: flat('cpuMsPerRun'),
    unit: 'ms',
    digits: 2,
    better: 'lower',
  },
];

export interface TableRow {
  workload: string;
  orchestrator: string;
  restate: string;
  dbos: string;
  vsBest: string;
  goal: string;
  met?: boolean;
  medians: Record<string, number>;
  summaries: Record<string, ReturnType<typeof summaryJson>>;
}

function summaryOf(ms: Measurement[], workload: WorkloadKey, variant: string, metric: RowSpec['metric']): Summary {
  return summarize(ms.filter((m) => m.workload === workload && m.variant === variant).map((m) => metric(m.result)));
}

/** The label with the sizes that actually ran (a quick run has a narrower fan-out and maybe fewer clients). */
function labelFor(spec: RowSpec, ms: Measurement[]): string {
  const fan = ms.find((m) => m.workload === 'c')?.result as FanoutResult | undefined;
  const diamond = ms.find((m) => m.workload === 'b')?.result as RateResult | undefined;
  return spec.label
    .replace('1,000', (fan?.width ?? 1000).toLocaleString('en-US'))
    .replace('20 clients', `${diamond?.clients ?? 20} clients`);
}

export function buildRows(ms: Measurement[]): TableRow[] {
  const out: TableRow[] = [];
  for (const spec of ROWS) {
    const ours = summaryOf(ms, spec.workload, spec.ours, spec.metric);
    if (ours.values.length === 0) continue;
    const peerSummaries: Partial<Record<Peer, Summary>> = {};
    for (const peer of ['restate', 'dbos'] as const) {
      const s = summaryOf(ms, spec.workload, peer, spec.metric);
      if (s.values.length > 0) peerSummaries[peer] = s;
    }
    const peers = Object.fromEntries(Object.entries(peerSummaries).map(([k, s]) => [k, s.median])) as Partial<
      Record<Peer, number>
    >;
    const b = best(peers, spec.better);
    const bestName = (Object.keys(peers) as Peer[]).find((k) => peers[k] === b);
    const ratio = b === undefined ? undefined : spec.better === 'higher' ? ours.median / b : b / ours.median;
    const show = (s?: Summary) => (s ? fmt(s, spec.unit, spec.digits) : '');
    out.push({
      workload: labelFor(spec, ms),
      orchestrator: show(ours),
      restate: show(peerSummaries.restate),
      dbos: show(peerSummaries.dbos),
      vsBest:
        ratio === undefined || !Number.isFinite(ratio)
          ? ''
          : `${ratio.toFixed(2)}x (${bestName === 'restate' ? 'Restate' : 'DBOS'})`,
      goal: spec.goal?.text ?? '',
      met: spec.goal?.met(ours.median, peers),
      medians: { [spec.ours]: ours.median, ...peers },
      summaries: Object.fromEntries([
        [spec.ours, summaryJson(ours)],
        ...Object.entries(peerSummaries).map(([k, s]) => [k, summaryJson(s)]),
      ]),
    });
  }
  return out;
}

const HEADERS = ['workload', 'orchestrator', 'Restate', 'DBOS', 'ours vs best peer (>1 = ahead)', 'goal (#18)', 'met'];

export function renderPeersTable(rows: TableRow[]): string {
  const matrix = [
    HEADERS,
    ...rows.map((r) => [
      r.workload,
      r.orchestrator,
      r.restate,
      r.dbos,
      r.vsBest,
      r.goal,
      r.met === undefined ? '' : r.met ? 'yes' : 'no',
    ]),
  ];
  const widths = HEADERS.map((_, i) => Math.max(...matrix.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(matrix[0] as string[]), rule, ...matrix.slice(1).map(line)].join('\n');
}

/** One line per workload and variant: what the system used, what else ran, and whether the machine was busy. */
export function renderLoad(ms: Measurement[]): string {
  const lines: string[] = [
    'Machine load per workload run (2 cores = 2.00; medians over repetitions; "busy" when other processes and steal',
    'took 0.25 cores or more in any repetition):',
  ];
  const keys = [...new Set(ms.map((m) => `${m.workload}|${m.variant}`))];
  for (const key of keys) {
    const [workload, variant] = key.split('|') as [WorkloadKey, string];
    const runs = ms.filter((m) => m.workload === workload && m.variant === variant);
    const med = (f: (l: WindowLoad) => number) => summarize(runs.map((r) => f(r.load))).median.toFixed(2);
    const worst = Math.max(...runs.map((r) => r.load.foreignCores + r.load.stealCores));
    const system = runs[0]?.system ?? '';
    const busy = runs.some((r) => isBusy(r.load)) ? '  <-- machine was busy: figures are pessimistic' : '';
    lines.push(
      `  (${workload}) ${variant.padEnd(17)} system ${med((l) => l.cores[system] ?? 0)} cores, bench client ${med((l) => l.benchCores)}, ` +
        `other systems ${med((l) => Object.entries(l.cores).reduce((s, [k, v]) => (k === system ? s : s + v), 0))}, ` +
        `other processes ${med((l) => l.foreignCores)} (worst ${worst.toFixed(2)} with steal)${busy}`,
    );
  }
  return lines.join('\n');
}

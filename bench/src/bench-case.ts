import type { BenchRedis } from './bench-redis';
import { round, type Summary } from './stats';

/** What every case gets from the runner. */
export interface BenchContext {
  redis: BenchRedis;
  /** Repetitions per measured figure; the table shows their median and range. */
  reps: number;
  /** WORKER_CONCURRENCY of every worker process, orchestrator and raw alike. */
  concurrency: number;
  /** Directory for CPU profiles when profiling was asked for, else undefined. */
  profileDir?: string;
  /** Node arguments that make a process write `<dir>/<label>.cpuprofile` on exit; undefined unless profiling. */
  profileArgs(label: string): string | undefined;
  log(message: string): void;
}

/** One line of the final table. `ok` is undefined for figures without a target. */
export interface Row {
  case: string;
  orchestrator: string;
  raw: string;
  ratio: string;
  target: string;
  ok?: boolean;
}

export interface CaseResult {
  rows: Row[];
  /** Everything measured, for bench/results/latest.json. */
  data: Record<string, unknown>;
}

export interface BenchCase {
  /** Short key for `--only`. */
  key: string;
  title: string;
  run(ctx: BenchContext): Promise<CaseResult>;
}

const groups = (n: number) => Math.round(n).toLocaleString('en-US');

/** `median (min-max) unit`; a single value prints alone. */
export function fmt(summary: Summary, unit = '', digits?: number): string {
  const show = (v: number) =>
    digits === undefined ? (Math.abs(v) >= 1000 ? groups(v) : String(round(v))) : v.toFixed(digits);
  if (!Number.isFinite(summary.median)) return 'n/a';
  const range = summary.values.length > 1 ? ` (${show(summary.min)}-${show(summary.max)})` : '';
  return `${show(summary.median)}${range}${unit ? ` ${unit}` : ''}`;
}

export function skippedRow(name: string, reason: string, target = ''): Row {
  return { case: name, orchestrator: `skipped: ${reason}`, raw: '', ratio: '', target };
}

/** JSON form of a summary: rounded, with the raw repetitions kept. */
export function summaryJson(summary: Summary): { median: number; min: number; max: number; values: number[] } {
  return {
    median: round(summary.median),
    min: round(summary.min),
    max: round(summary.max),
    values: summary.values.map(round),
  };
}

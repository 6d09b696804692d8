import { systemSeconds } from '../machine-load';
import { allStats, readStat, treeCpuSeconds } from './proc-tree';

/** CPU counters at one moment: the machine's, the bench process's and each system's process trees. */
export interface CpuSnapshot {
  at: number;
  busy: number;
  steal: number;
  bench: number;
  systems: Record<string, number>;
}

/** What one measured window had of the machine, in cores (2 cores = 2.00). */
export interface WindowLoad {
  seconds: number;
  /** CPU seconds of each system's processes over the window. */
  cpuSeconds: Record<string, number>;
  cores: Record<string, number>;
  /** The bench process itself: the clients, autocannon. */
  benchCores: number;
  /** Everything else on the machine: other people's builds and tests. */
  foreignCores: number;
  stealCores: number;
}

export function cpuSnapshot(systems: Record<string, readonly number[]>): CpuSnapshot {
  const stats = allStats();
  const self = readStat(process.pid);
  const machine = systemSeconds();
  return {
    at: Date.now(),
    busy: machine.busy,
    steal: machine.steal,
    // the bench process and the helpers it has waited for (npm, initdb); its live servers are counted per system
    bench: self ? self.self + self.reaped : 0,
    systems: Object.fromEntries(Object.entries(systems).map(([name, pids]) => [name, treeCpuSeconds(pids, stats)])),
  };
}

export function windowLoad(before: CpuSnapshot, after: CpuSnapshot): WindowLoad {
  const seconds = Math.max(0.001, (after.at - before.at) / 1000);
  const cpuSeconds = Object.fromEntries(
    Object.keys(after.systems).map((k) => [k, Math.max(0, (after.systems[k] ?? 0) - (before.systems[k] ?? 0))]),
  );
  const bench = after.bench - before.bench;
  const ours = bench + Object.values(cpuSeconds).reduce((a, b) => a + b, 0);
  const r = (v: number) => Math.round((v / seconds) * 100) / 100;
  return {
    seconds: Math.round(seconds * 10) / 10,
    cpuSeconds,
    cores: Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, r(v)])),
    benchCores: r(bench),
    foreignCores: r(Math.max(0, after.busy - before.busy - ours)),
    stealCores: r(after.steal - before.steal),
  };
}

/** A window counts as loaded when other processes or the hypervisor took a quarter of a core or more. */
export function isBusy(load: WindowLoad): boolean {
  return load.foreignCores + load.stealCores >= 0.25;
}

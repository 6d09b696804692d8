import { readFileSync } from 'node:fs';
import type { BenchRedis } from './bench-redis';
import { processCpuSeconds } from './cpu';

const TICKS_PER_SECOND = 100;

/** Busy and stolen CPU seconds of the whole machine since boot (/proc/stat, first line). */
export function systemSeconds(): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: (user + nice + system + irq + softirq) / TICKS_PER_SECOND, steal: steal / TICKS_PER_SECOND };
}

/** CPU of this process plus every child it has reaped (worker, API and raw-worker processes that have exited). */
function selfAndReapedChildren(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
}

export interface LoadReport {
  seconds: number;
  /** Average cores used by the bench's own processes (itself, its children, its redis-server). */
  ownCores: number;
  /** Average cores used by everything else on the machine: other people's builds and tests skew the figures. */
  foreignCores: number;
  /** Average cores the hypervisor took away. */
  stealCores: number;
}

/**
 * Measures how much of the machine a case had. Call `stop()` after the case's processes have exited, so their CPU
 * is in this process's reaped-children counters.
 */
export async function loadMeter(redis: BenchRedis) {
  const redisPid = Number((await redis.info('server')).process_id);
  const read = () => ({ system: systemSeconds(), own: selfAndReapedChildren() + processCpuSeconds(redisPid) });
  const before = read();
  const start = Date.now();
  return {
    stop(): LoadReport {
      const after = read();
      const seconds = (Date.now() - start) / 1000;
      const own = after.own - before.own;
      const busy = after.system.busy - before.system.busy;
      const r = (v: number) => Math.round((v / seconds) * 100) / 100;
      return {
        seconds: Math.round(seconds * 10) / 10,
        ownCores: r(own),
        foreignCores: r(Math.max(0, busy - own)),
        stealCores: r(after.system.steal - before.system.steal),
      };
    },
  };
}

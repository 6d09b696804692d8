import { readFileSync } from 'node:fs';
import type { BenchRedis } from './bench-redis';

/** Linux reports process CPU in clock ticks; USER_HZ is 100 on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat fields 14 and 15). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

export async function redisCpuSeconds(redis: BenchRedis): Promise<number> {
  const cpu = await redis.info('cpu');
  return Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys);
}

/** CPU seconds used by Redis, the bench process itself and each given process between `start()` and `stop()`. */
export async function cpuMeter(redis: BenchRedis, pids: Record<string, number>) {
  const read = async () => {
    const out: Record<string, number> = { redis: await redisCpuSeconds(redis), bench: processCpuSeconds(process.pid) };
    for (const [name, pid] of Object.entries(pids)) out[name] = processCpuSeconds(pid);
    return out;
  };
  const before = await read();
  return {
    async stop(): Promise<Record<string, number>> {
      const after = await read();
      return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
    },
  };
}

import type { BenchRedis } from './bench-redis';
import { sleep } from './processes';

/**
 * Commands that worker processes send to Redis while `work` runs, counted with MONITOR: each command a client sends
 * (a script call counts once; the commands a script runs inside Redis, which MONITOR tags `lua`, do not), from every
 * client except the bench's own (`bench-*`: the submitter, the raw producer, the admin). A pipelined command counts
 * too, so this is the worst case of round trips. MONITOR slows Redis down, so it runs apart from the timed runs.
 */
export async function workerCommands<T>(
  redis: BenchRedis,
  work: () => Promise<T>,
): Promise<{ result: T; commands: number }> {
  const monitor = await redis.admin.monitor();
  const bySource = new Map<string, number>();
  monitor.on('monitor', (_time: string, _args: string[], source: string) => {
    if (source !== 'lua') bySource.set(source, (bySource.get(source) ?? 0) + 1);
  });
  try {
    const result = await work();
    await sleep(100); // the last completion's bookkeeping
    const names = new Map<string, string>();
    const list = (await redis.admin.client('LIST')) as string;
    for (const line of list.split('\n')) {
      const fields: Record<string, string> = Object.fromEntries(
        line.split(' ').map((f: string) => f.split('=') as [string, string]),
      );
      if (fields.addr) names.set(fields.addr, fields.name ?? '');
    }
    let commands = 0;
    for (const [source, n] of bySource) {
      // A client that closed meanwhile is not listed; only the bench's own long-lived clients are left out.
      if (!(names.get(source) ?? '').startsWith('bench-')) commands += n;
    }
    return { result, commands };
  } finally {
    monitor.disconnect();
  }
}

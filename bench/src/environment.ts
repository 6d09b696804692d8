import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchRedis } from './bench-redis';
import { ROOT } from './processes';

function packageVersion(name: string): string {
  try {
    const file = require.resolve(`${name}/package.json`, { paths: [join(ROOT, 'bench')] });
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** The machine and versions a result belongs to; numbers from different machines are not comparable. */
export async function environment(redis: Pick<BenchRedis, 'info'>): Promise<Record<string, unknown>> {
  const server = await redis.info('server');
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: server.redis_version,
    bullmq: packageVersion('bullmq'),
    ioredis: packageVersion('ioredis'),
    autocannon: packageVersion('autocannon'),
    git_commit: git(['rev-parse', 'HEAD']),
    // The lead commits after review, so the measured tree usually has uncommitted changes: say so.
    git_dirty: git(['status', '--porcelain']).length > 0,
  };
}

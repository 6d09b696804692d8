import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisCluster as launch, type RedisCluster, type RedisClusterOptions } from '@orch/process';

export type { ClusterPrimary, RedisCluster, RedisClusterNode } from '@orch/process';

/**
 * A private Redis Cluster for one test file (default 3 primaries + 1 replica each) in a temp directory that `stop`
 * removes. A 1 s node timeout, so a killed primary's replica takes over within a few seconds.
 */
export function startRedisCluster(options: Partial<Omit<RedisClusterOptions, 'reuse'>> = {}): Promise<RedisCluster> {
  return launch({
    nodeTimeoutMs: 1000,
    ...options,
    dir: options.dir ?? mkdtempSync(join(tmpdir(), 'orch-cluster-')),
    removeDirOnStop: options.removeDirOnStop ?? true,
  });
}

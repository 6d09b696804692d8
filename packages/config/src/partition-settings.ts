import { DURATION_HINT, tryParseDuration } from '@orch/core';
import type { ErrorDetail } from '@orch/errors';

/** The Redis Cluster and partitioning settings of Config. */
export interface PartitionSettings {
  /**
   * How many partitions the engine spreads runs over (each partition's keys and queues under one hash tag, so on a
   * cluster they spread over the shards): ORCHESTRATOR_PARTITIONS, default 1 on a standalone Redis, 16 on a cluster.
   */
  partitions: number;
  /** The partitions this worker takes jobs from (WORKER_PARTITIONS); unset: all of them. Sorted, no repeats. */
  workerPartitions?: number[];
  /**
   * How many replicas must acknowledge a run's creation (Redis WAIT) before the API answers, and how long it waits
   * for them: REDIS_WAIT_REPLICAS (default 1 on a cluster, else 0) and REDIS_WAIT_TIMEOUT (default 200ms).
   */
  replicaAcks: { replicas: number; timeoutMs: number };
}

/** Their entries in loadConfig's env schema (ajv checks types and ranges; the rest is checked below). */
export const partitionEnvSchema = {
  REDIS_CLUSTER_NODES: { type: 'string', minLength: 1 },
  ORCHESTRATOR_PARTITIONS: { type: 'integer', minimum: 1, maximum: 1024 },
  WORKER_PARTITIONS: { type: 'string', minLength: 1 },
  REDIS_WAIT_REPLICAS: { type: 'integer', minimum: 0, maximum: 100 },
  REDIS_WAIT_TIMEOUT: { type: 'string', default: '200ms' },
} as const;

export interface PartitionEnv {
  REDIS_CLUSTER_NODES?: string;
  ORCHESTRATOR_PARTITIONS?: number;
  WORKER_PARTITIONS?: string;
  REDIS_WAIT_REPLICAS?: number;
  REDIS_WAIT_TIMEOUT?: string;
  REDIS_URL?: string;
  REDIS_DATABASE?: number;
  QUEUE_PREFIX?: string;
}

/**
 * The checked partition settings and the cluster's startup nodes; pushes an error naming the variable (and the
 * bad entry) for each problem. `raw` is the environment after ajv (coerced, defaults in).
 */
export function parsePartitionSettings(
  raw: PartitionEnv,
  errors: ErrorDetail[],
): PartitionSettings & { clusterNodes?: { host: string; port: number }[] } {
  const clusterNodes = raw.REDIS_CLUSTER_NODES === undefined ? undefined : parseNodes(raw.REDIS_CLUSTER_NODES, errors);
  const onCluster = raw.REDIS_CLUSTER_NODES !== undefined;
  if (onCluster && raw.REDIS_URL !== undefined) {
    errors.push({
      pointer: 'REDIS_URL',
      message: 'must not be set with REDIS_CLUSTER_NODES: the cluster is reached through its nodes',
    });
  }
  if (onCluster && raw.REDIS_DATABASE !== undefined && raw.REDIS_DATABASE !== 0) {
    errors.push({
      pointer: 'REDIS_DATABASE',
      message: `must be 0 with REDIS_CLUSTER_NODES (a Redis Cluster has only database 0); got ${raw.REDIS_DATABASE}`,
    });
  }
  const partitions = raw.ORCHESTRATOR_PARTITIONS ?? (onCluster ? 16 : 1);
  if ((onCluster || partitions > 1) && raw.QUEUE_PREFIX !== undefined && /[{}]/.test(raw.QUEUE_PREFIX)) {
    errors.push({
      pointer: 'QUEUE_PREFIX',
      message: `must not contain { or } ${onCluster ? 'on a Redis Cluster' : 'with more than one partition'} (the engine adds each partition's hash tag itself); got ${JSON.stringify(raw.QUEUE_PREFIX)}`,
    });
  }
  const workerPartitions =
    raw.WORKER_PARTITIONS === undefined ? undefined : parseRanges(raw.WORKER_PARTITIONS, partitions, errors);
  const timeoutMs = tryParseDuration(raw.REDIS_WAIT_TIMEOUT ?? '200ms');
  if (timeoutMs === undefined || timeoutMs === 0) {
    // WAIT with a timeout of 0 blocks until the replicas answer, however long: never what a submit wants.
    const must = timeoutMs === 0 ? 'be longer than 0' : `be ${DURATION_HINT}`;
    errors.push({
      pointer: 'REDIS_WAIT_TIMEOUT',
      message: `must ${must}; got ${JSON.stringify(raw.REDIS_WAIT_TIMEOUT)}`,
    });
  }
  return {
    ...(clusterNodes ? { clusterNodes } : {}),
    partitions,
    ...(workerPartitions ? { workerPartitions } : {}),
    replicaAcks: { replicas: raw.REDIS_WAIT_REPLICAS ?? (onCluster ? 1 : 0), timeoutMs: timeoutMs ?? 0 },
  };
}

/** `host:port,host:port` (an IPv6 host in brackets: `[::1]:7000`). */
function parseNodes(text: string, errors: ErrorDetail[]): { host: string; port: number }[] {
  const nodes: { host: string; port: number }[] = [];
  const bad: string[] = [];
  for (const entry of text.split(',').map((e) => e.trim())) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) bad.push(JSON.stringify(entry));
    else nodes.push({ host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port });
  }
  if (bad.length > 0) {
    errors.push({
      pointer: 'REDIS_CLUSTER_NODES',
      message: `must be host:port entries separated by commas; bad ${bad.length === 1 ? 'entry' : 'entries'}: ${bad.join(', ')}`,
    });
  }
  return nodes;
}

/** `0-7` or `0-3,8,12-15`: sorted, no repeats; every number below `partitions`. */
function parseRanges(text: string, partitions: number, errors: ErrorDetail[]): number[] {
  const chosen = new Set<number>();
  const bad: string[] = [];
  const outside = new Set<number>();
  for (const entry of text.split(',').map((e) => e.trim())) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(entry);
    const from = Number(match?.[1]);
    const to = Number(match?.[2] ?? match?.[1]);
    if (!match || to < from) {
      bad.push(JSON.stringify(entry));
      continue;
    }
    for (const n of [from, to]) if (n >= partitions) outside.add(n);
    for (let n = from; n <= Math.min(to, partitions - 1); n++) chosen.add(n);
  }
  if (bad.length > 0) {
    errors.push({
      pointer: 'WORKER_PARTITIONS',
      message: `must be partition numbers and ranges like 0-3,8,12-15; bad ${bad.length === 1 ? 'entry' : 'entries'}: ${bad.join(', ')}`,
    });
  }
  if (outside.size > 0) {
    errors.push({
      pointer: 'WORKER_PARTITIONS',
      message: `names ${[...outside].sort((a, b) => a - b).join(', ')}, but the partitions are 0-${partitions - 1} (ORCHESTRATOR_PARTITIONS=${partitions})`,
    });
  }
  return [...chosen].sort((a, b) => a - b);
}

/** What the engine needs to know of the deployment's partitions and Redis (the API, workers and SDK pass it on). */
export function partitionOptions(config: {
  partitions: number;
  redis: { clusterNodes?: unknown };
  replicaAcks: { replicas: number; timeoutMs: number };
}): { partitions: number; cluster: boolean; replicaAcks: { replicas: number; timeoutMs: number } } {
  return {
    partitions: config.partitions,
    cluster: config.redis.clusterNodes !== undefined,
    replicaAcks: config.replicaAcks,
  };
}

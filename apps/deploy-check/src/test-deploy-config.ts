import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './deploy-files';

export const DOCKER_DIR = join(REPO_ROOT, 'docker');

/** The reference's environment variables, by the reference's names: every Orchestrator service gets all of them. */
export const REFERENCE_VARS = [
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_PASSWORD',
  'REDIS_DATABASE',
  'ORCHESTRATOR_PORT',
  'ORCHESTRATOR_HOST',
  'MAX_CONCURRENT_WORKFLOWS',
  'DEFAULT_WORKFLOW_TIMEOUT',
  'EXECUTION_TTL',
  'RECOVERY_ENABLED',
  'RECOVERY_INTERVAL',
  'ORCHESTRATOR_TEMPLATES',
  'ORCHESTRATOR_WORKSPACE',
] as const;

/**
 * The variables `loadConfig` reads, taken from its schema in packages/config/src/load-config.ts (its property
 * lines, four spaces in). The config package does not export the list, and this package does not depend on it.
 */
export function configVariableNames(): string[] {
  const source = readFileSync(join(REPO_ROOT, 'packages/config/src/load-config.ts'), 'utf8');
  const start = source.indexOf('const envSchema');
  const block = source.slice(start, source.indexOf('} as const;', start));
  return [...block.matchAll(/^ {4}([A-Z][A-Z0-9_]*): \{/gm)].map((m) => m[1] as string);
}

/** The role list a shell script declares as `ROLES="a b c"`. */
export function declaredRoles(script: string): string[] {
  const match = /^ROLES="([^"]*)"/m.exec(readFileSync(join(DOCKER_DIR, script), 'utf8'));
  if (!match) throw new Error(`docker/${script} declares no ROLES`);
  return (match[1] as string).split(/\s+/).filter(Boolean);
}

/** A compose or Kubernetes duration (`330s`, `5m30s`, `1h`) in seconds. */
export function durationSeconds(value: string): number {
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) throw new Error(`not a duration: ${value}`);
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * (unit[p[2] as string] as number), 0);
}

/**
 * The Redis Cluster settings of issue #19, which the cluster deployment files set. They are accepted as known
 * beside `configVariableNames()` until packages/config reads them (then they are simply in both lists).
 */
export const CLUSTER_VARS = [
  'REDIS_CLUSTER_NODES',
  'ORCHESTRATOR_PARTITIONS',
  'WORKER_PARTITIONS',
  'REDIS_WAIT_REPLICAS',
  'REDIS_WAIT_TIMEOUT',
] as const;

/** A WORKER_PARTITIONS value (`0-7`, `3`, `0-3,8-11`) as the partition numbers it names, in order. */
export function partitionRange(value: string): number[] {
  return value.split(',').flatMap((part) => {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) throw new Error(`not a partition range: ${value}`);
    const from = Number(match[1]);
    const to = Number(match[2] ?? match[1]);
    if (to < from) throw new Error(`empty partition range: ${value}`);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

import type { Handler } from './handler';

/**
 * `GET /status`: what the reference's "Monitoring" lists: active and pending workflows, template statistics,
 * recovery operation counters, the Redis connection, plus BullMQ queue counts, version and uptime.
 */
export const serviceStatus: Handler = async (_input, deps) => {
  const { engine, catalog, redis } = deps;
  const { active, pending, recovery, queues, workers } = await engine.operationalState();
  const templates = catalog.list();
  const byCategory: Record<string, number> = {};
  for (const t of templates)
    byCategory[t.category ?? 'uncategorised'] = (byCategory[t.category ?? 'uncategorised'] ?? 0) + 1;
  return {
    status: 200,
    body: {
      service: 'orchestrator-api',
      version: deps.version,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      workflows: { active, pending, max_concurrent: deps.config.maxConcurrentWorkflows },
      templates: {
        count: templates.length,
        by_category: byCategory,
        tasks: templates.reduce((sum, t) => sum + t.tasks, 0),
        invalid_files: catalog.problems.map((p) => ({ path: p.path, errors: p.errors.length })),
      },
      recovery: {
        enabled: deps.config.recovery.enabled,
        strategy: deps.config.recovery.strategy,
        counters: recovery,
      },
      redis: { status: redis.status },
      queues,
      sse_streams: deps.streams.size,
      workers,
    },
  };
};

import type { Handler } from './handler';

/** `GET /metrics`: Prometheus text; queue depths and run counts are read from Redis at scrape time. */
export const prometheusMetrics: Handler = async (_input, deps) => {
  return {
    status: 200,
    headers: { 'content-type': deps.metrics.contentType },
    body: await deps.metrics.render(),
  };
};

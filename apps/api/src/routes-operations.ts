import { health } from './handlers/health';
import { listWorkers } from './handlers/list-workers';
import { openapiDocument } from './handlers/openapi-document';
import { prometheusMetrics } from './handlers/prometheus-metrics';
import { serviceStatus } from './handlers/service-status';
import { error, json, type RouteSpec } from './route-spec';

/** Health, status, metrics and the document itself. */
export const OPERATION_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    description: 'The OpenAPI 3.1 document of this API, built from its route table; `/docs` shows it in Swagger UI.',
    tag: 'operations',
    handler: openapiDocument,
    scope: 'read',
    redis: false,
    responses: { 200: json('OpenAPI 3.1', 'OpenApiDocument') },
  },
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Liveness and Redis reachability; needs no API key',
    description: 'For load balancer and orchestrator probes: 200 when the process is up and Redis answers PING.',
    tag: 'operations',
    handler: health,
    scope: 'none',
    responses: { 200: json('Up, and Redis answers', 'Health'), 503: error('Redis is unreachable') },
  },
  {
    method: 'get',
    path: '/status',
    operationId: 'serviceStatus',
    summary: 'Workflow counts, template statistics, recovery counters, Redis and queue state',
    description: 'Active and pending runs, the catalog, recovery counters, the Redis connection and BullMQ job counts.',
    tag: 'operations',
    handler: serviceStatus,
    scope: 'read',
    responses: { 200: json('Service status', 'ServiceStatus') },
  },
  {
    method: 'get',
    path: '/api/v1/workers',
    operationId: 'listWorkers',
    summary: 'Workers, by their heartbeats',
    description:
      'Every worker process that sent a heartbeat in the last hour: name, host, pid, task queues, task types, ' +
      'concurrency, active jobs, start time, version; `lost` once 3 heartbeats are missing.',
    tag: 'operations',
    handler: listWorkers,
    scope: 'read',
    responses: { 200: json('The workers', 'WorkerList') },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    description:
      'Request durations, runs submitted and finished, and queue depths and run counts read from Redis at scrape ' +
      'time, in the Prometheus text format.',
    tag: 'operations',
    handler: prometheusMetrics,
    scope: 'read',
    // With Redis down it still answers, with orchestrator_redis_up 0: the scrape that says Redis is down.
    redis: false,
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
  },
];

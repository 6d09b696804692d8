#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { startProcessTracing } from '@orch/tracing';
import { ApiService } from './api-service';

/** Starts the API; SIGTERM and SIGINT close it in order (see ApiService.close) and exit. */
runProcess('orchestrator-api', async () => {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'orchestrator-api' } });
  // Before anything that makes spans; off (nothing started) without OTEL_EXPORTER_OTLP_ENDPOINT.
  const tracing = startProcessTracing(config.tracing, 'orchestrator-api', logger);
  const service = await ApiService.start({ config, logger });
  // Started by `orchestrator up` (an IPC channel): say where this process listens, so `up` checks this very
  // process's health and not whatever else answers on the port.
  if (process.send) {
    process.send({ type: 'listening', url: service.url, pid: process.pid }, () => process.disconnect?.());
  }
  return { logger, close: () => service.close().finally(() => tracing.close()) };
});

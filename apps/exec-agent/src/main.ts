#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { startProcessTracing } from '@orch/tracing';
import { ExecAgent } from './exec-agent';

/** The exec-agent process: answers signed `exec-requests` until SIGTERM or SIGINT. */
runProcess('exec-agent', async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'exec-agent' } });
  // Before anything that makes spans; off (nothing started) without OTEL_EXPORTER_OTLP_ENDPOINT.
  const tracing = startProcessTracing(config.tracing, 'exec-agent', logger);
  const agent = new ExecAgent({
    redis: config.redis,
    workspaceDir: config.workspaceDir,
    secret: config.serviceSecret,
    exec: config.exec,
    logger,
  });
  await agent.start();
  logger.info('exec-agent started', {
    mode: agent.mode,
    workspace: config.workspaceDir,
    uid: agent.commandUid,
    network: config.exec.network,
  });
  return { logger, close: () => agent.close().finally(() => tracing.close()) };
});

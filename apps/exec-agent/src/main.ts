#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { runProcess } from '@orch/process';
import { ExecAgent } from './exec-agent';

/** The exec-agent process: answers `exec-requests` until SIGTERM or SIGINT. */
runProcess('exec-agent', async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'exec-agent' } });
  const agent = new ExecAgent({ redis: config.redis, workspaceDir: config.workspaceDir, logger });
  await agent.start();
  logger.info('exec-agent started', { mode: agent.mode, workspace: config.workspaceDir });
  return { logger, close: () => agent.close() };
});

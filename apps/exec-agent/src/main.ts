#!/usr/bin/env node
import { loadConfig } from '@orch/config';
import { ValidationError } from '@orch/errors';
import { createLogger } from '@orch/logger';
import { ExecAgent } from './exec-agent';

/** The exec-agent process: answers `exec-requests` until SIGTERM or SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, defaults: { service: 'exec-agent' } });
  const agent = new ExecAgent({ redis: config.redis, workspaceDir: config.workspaceDir, logger });
  await agent.start();
  logger.info('exec-agent started', { mode: agent.mode, workspace: config.workspaceDir });
  const stop = (signal: NodeJS.Signals) => {
    logger.info('stopping', { signal });
    agent.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('close failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ValidationError ? error.describe() : String(error)}\n`);
  process.exit(1);
});

import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { dashboardQueues, type WorkflowEngine } from '@orch/engine';
import { OrchestratorError } from '@orch/errors';
import type { Logger } from '@orch/logger';
import type { RequestHandler } from 'express';
import { boardGuard } from './board-guard';
import { callerOf, missingScope } from './middleware/auth';

/** Where Bull Board is mounted. Its base path must be this same path, or the page loads no assets. */
export const BOARD_PATH = '/admin/queues';

function board(engine: WorkflowEngine, readOnlyMode: boolean): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: dashboardQueues(engine).map(({ queue, prefix }) => new BullMQAdapter(queue, { readOnlyMode, prefix })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Orchestrator' } },
  });
  return serverAdapter.getRouter() as RequestHandler;
}

/**
 * Bull Board over the engine's queues, mounted at `BOARD_PATH` behind the API's auth. Two boards: a key without
 * `admin` gets one whose queues are all in bull-board's read-only mode (no write buttons, and its write routes
 * answer 405); an admin key gets the full board behind boardGuard, which refuses what would corrupt a run.
 */
export function createBoard(engine: WorkflowEngine, logger: Logger): RequestHandler {
  const readOnly = board(engine, true);
  const full = board(engine, false);
  const guard = boardGuard(engine, logger);
  return (req, res, next) => {
    const problem = missingScope(callerOf(res), 'admin', 'a Bull Board write action');
    if (problem) {
      if (req.method === 'GET' || req.method === 'HEAD') return readOnly(req, res, next);
      return next(new OrchestratorError('FORBIDDEN', problem));
    }
    guard(req, res, (error?: unknown) => (error ? next(error) : full(req, res, next)));
  };
}

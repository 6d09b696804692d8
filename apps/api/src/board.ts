import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';

/** Where Bull Board is mounted. Its base path must be this same path, or the page loads no assets. */
export const BOARD_PATH = '/admin/queues';

/** Bull Board over the engine's queues, as a handler to mount at `BOARD_PATH` (behind the API's auth). */
export function createBoard(queues: Queue[]): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Orchestrator' } },
  });
  return serverAdapter.getRouter() as RequestHandler;
}

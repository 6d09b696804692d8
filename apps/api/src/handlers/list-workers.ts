import type { Handler } from './handler';

/** `GET /api/v1/workers`: every worker by its latest heartbeat; one silent for 3 heartbeats is `lost`. */
export const listWorkers: Handler = async (_input, deps) => {
  return { status: 200, body: { workers: await deps.engine.workers() } };
};

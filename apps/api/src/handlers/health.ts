import { OrchestratorError } from '@orch/errors';
import { REDIS_RETRY_AFTER_S } from '../middleware/error-handler';
import type { Handler } from './handler';

/** `GET /health`: the process is up and Redis answers PING. Never behind auth, so probes need no key. */
export const health: Handler = async (_input, deps) => {
  const started = process.hrtime.bigint();
  try {
    await deps.redis.ping();
  } catch (error) {
    throw new OrchestratorError(
      'SERVICE_UNAVAILABLE',
      `Redis is unreachable (${deps.redis.status}): ${(error as Error).message}`,
      { cause: error, retryAfterS: REDIS_RETRY_AFTER_S },
    );
  }
  const pingMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    status: 200,
    body: {
      status: 'ok',
      redis: { status: 'ok', ping_ms: Math.round(pingMs * 100) / 100 },
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
    },
  };
};

import { createLogger } from '@orch/logger';
import { type BacklogReading, Backpressure } from './backpressure';

const logger = createLogger({ level: 'error' });

/** A backlog the test sets; every read is counted. */
function source(initial: number) {
  const state = { backlog: initial, reads: 0 };
  const read = async (): Promise<BacklogReading> => {
    state.reads++;
    return { waitingJobs: state.backlog, pendingRuns: 0 };
  };
  return { state, read };
}

describe('Backpressure', () => {
  it('admits below the mark, counting its own submits between samples', async () => {
    const { state, read } = source(0);
    const bp = new Backpressure({ read, highWater: 3, holdMs: 0, logger, sampleMs: 60_000 });
    for (let i = 0; i < 3; i++) await bp.admit(1);
    expect(bp.current).toBe(3);
    expect(state.reads).toBe(1); // one sample serves every submit inside the interval
    await expect(bp.admit(1)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS', status: 429, retryAfterS: 1 });
    bp.close();
  });

  it('holds a submit until a sample shows room', async () => {
    const { state, read } = source(10);
    const bp = new Backpressure({ read, highWater: 5, holdMs: 60_000, logger, sampleMs: 5 });
    let admitted = false;
    const held = bp.admit(1).then(() => {
      admitted = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(admitted).toBe(false);
    state.backlog = 2;
    await held;
    expect(bp.current).toBe(3);
    bp.close();
  });

  it('refuses after the hold with a Retry-After from the measured drain rate, at least 1 s', async () => {
    const { state, read } = source(100);
    const bp = new Backpressure({ read, highWater: 10, holdMs: 50, logger, sampleMs: 5 });
    const refusal = bp.admit(1).catch((error: unknown) => error);
    state.backlog = 90;
    const error = (await refusal) as { status: number; retryAfterS: number; message: string };
    expect(error.status).toBe(429);
    expect(error.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(error.retryAfterS).toBeLessThanOrEqual(60);
    expect(error.message).toMatch(/above ORCHESTRATOR_BACKLOG_HIGH_WATER \(10\)/);
    bp.close();
  });

  it('refuses at once when the request goes away, and lets held submits go on close', async () => {
    const { read } = source(10);
    const bp = new Backpressure({ read, highWater: 5, holdMs: 60_000, logger, sampleMs: 60_000 });
    const gone = new AbortController();
    gone.abort();
    await expect(bp.admit(1, gone.signal)).rejects.toMatchObject({ status: 429 });
    const held = bp.admit(1);
    bp.close();
    await expect(held).resolves.toBeUndefined();
  });

  it('reads nothing and admits everything when off', async () => {
    const { state, read } = source(1_000_000);
    const bp = new Backpressure({ read, highWater: 0, holdMs: 0, logger });
    await bp.admit(1);
    expect(state.reads).toBe(0);
  });
});

import { OrchestratorError } from '@orch/errors';

/**
 * The time budget of one generate call. `signal` fires when the budget runs out or the caller's signal fires,
 * and is handed to every request and backoff wait, so nothing outlives the call.
 */
export class Deadline {
  readonly expiresAt: number;
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private expired = false;
  private readonly detach: () => void;

  constructor(
    readonly budgetMs: number,
    parent?: AbortSignal,
  ) {
    this.expiresAt = Date.now() + budgetMs;
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, budgetMs);
    const onAbort = () => this.controller.abort(parent?.reason);
    if (parent?.aborted) onAbort();
    parent?.addEventListener('abort', onAbort, { once: true });
    this.detach = () => parent?.removeEventListener('abort', onAbort);
  }

  remainingMs(): number {
    return Math.max(0, this.expiresAt - Date.now());
  }

  /** The error to throw once the signal fired: TIMEOUT when the budget ran out, else the caller's reason. */
  abortError(): Error {
    if (this.expired || this.remainingMs() === 0) return this.timeoutError();
    const reason: unknown = this.signal.reason;
    return reason instanceof Error ? reason : new Error('workflow generation was cancelled', { cause: reason });
  }

  timeoutError(): OrchestratorError {
    return new OrchestratorError('TIMEOUT', `workflow generation did not finish within ${this.budgetMs} ms`);
  }

  /** Resolves after `ms`, or rejects with abortError() as soon as the signal fires. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.signal.aborted) {
        reject(this.abortError());
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(this.abortError());
      };
      const timer = setTimeout(() => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.detach();
  }
}

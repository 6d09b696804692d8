import { randomBytes } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/**
 * Random ids, except that the next span id can be chosen: a run's span is started at submit time in one process
 * (its id handed to every task as their parent) and recorded when the run ends, often in another.
 */
export class ChosenIdGenerator implements IdGenerator {
  private chosen?: string;
  private chosenTrace?: string;

  generateTraceId(): string {
    const chosen = this.chosenTrace;
    this.chosenTrace = undefined;
    return chosen ?? nonZeroHex(16);
  }

  generateSpanId(): string {
    const chosen = this.chosen;
    this.chosen = undefined;
    return chosen ?? nonZeroHex(8);
  }

  /**
   * Runs `start` (which must start exactly one span, synchronously) with `spanId` as that span's id and, should it
   * be a root, `traceId` as its trace's.
   */
  withIds<T>(traceId: string, spanId: string, start: () => T): T {
    this.chosen = spanId;
    this.chosenTrace = traceId;
    try {
      return start();
    } finally {
      this.chosen = undefined;
      this.chosenTrace = undefined;
    }
  }
}

/** W3C trace context forbids all-zero ids. */
export function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

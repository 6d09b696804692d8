import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Where the exporter's trouble is told: once when exports start failing, once when they work again. */
export interface ExportReporter {
  failing(error: string): void;
  recovered(): void;
}

/**
 * Wraps the OTLP exporter so a collector that is down is logged once (not once per batch) and never reaches a job:
 * spans are dropped by the batch processor, the work goes on.
 */
export class ReportingExporter implements SpanExporter {
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly reporter: ExportReporter,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      this.inner.export(spans, (result) => {
        this.note(result);
        done(result);
      });
    } catch (error) {
      const result = { code: ExportResultCode.FAILED, error: error as Error };
      this.note(result);
      done(result);
    }
  }

  private note(result: ExportResult): void {
    if (result.code === ExportResultCode.SUCCESS) {
      if (this.failing) this.reporter.recovered();
      this.failing = false;
      return;
    }
    if (!this.failing) this.reporter.failing(result.error?.message ?? 'export failed');
    this.failing = true;
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

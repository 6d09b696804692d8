import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ReportingExporter } from './reporting-exporter';

/** An exporter whose next results are scripted: true succeeds, false fails, 'throw' throws. */
function scripted(results: (boolean | 'throw')[]): SpanExporter {
  return {
    export(_spans: ReadableSpan[], done: (result: ExportResult) => void) {
      const next = results.shift();
      if (next === 'throw') throw new Error('socket hang up');
      done(
        next ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error('ECONNREFUSED') },
      );
    },
    shutdown: async () => undefined,
  };
}

describe('ReportingExporter', () => {
  it('tells a failing collector once, its recovery once, and passes every result on', () => {
    const told: string[] = [];
    const exporter = new ReportingExporter(scripted([true, false, false, 'throw', true, true, false]), {
      failing: (error) => told.push(`failing: ${error}`),
      recovered: () => told.push('recovered'),
    });
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) exporter.export([], (result) => codes.push(result.code));
    expect(told).toEqual(['failing: ECONNREFUSED', 'recovered', 'failing: ECONNREFUSED']);
    const { SUCCESS: ok, FAILED: failed } = ExportResultCode;
    expect(codes).toEqual([ok, failed, failed, failed, ok, ok, failed]);
  });
});

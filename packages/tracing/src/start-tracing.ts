import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { ChosenIdGenerator } from './id-generator';
import { type ExportReporter, ReportingExporter } from './reporting-exporter';
import type { SamplerName, TracingSettings } from './tracing-settings';
import { setTracingState } from './tracing-state';

export interface StartTracingOptions {
  /** OTEL_SERVICE_NAME wins over it. */
  defaultServiceName: string;
  /** Told once when the collector cannot be reached, once when it can again. */
  reporter?: ExportReporter;
  /** Batch delay; tests shorten it. */
  exportDelayMs?: number;
}

/** What startTracing returns: close() flushes the spans still buffered and unregisters. Idempotent. */
export interface Tracing {
  readonly enabled: boolean;
  close(): Promise<void>;
}

const OFF: Tracing = { enabled: false, close: async () => undefined };

/**
 * Starts the OpenTelemetry SDK for this process when an OTLP endpoint is set. Without one nothing is started: the
 * API stays its no-op self and the engine skips every tracing step, so tracing off costs nothing.
 */
export function startTracing(settings: TracingSettings, options: StartTracingOptions): Tracing {
  if (!settings.endpoint) return OFF;
  const ids = new ChosenIdGenerator();
  const exporter = new OTLPTraceExporter({
    url: `${settings.endpoint.replace(/\/+$/, '')}/v1/traces`,
    headers: { ...settings.headers },
  });
  const reporter = options.reporter ?? { failing: () => undefined, recovered: () => undefined };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName ?? options.defaultServiceName,
      [ATTR_SERVICE_VERSION]: '0.1.0',
    }),
    sampler: samplerOf(settings.sampler, settings.samplerArg),
    idGenerator: ids,
    spanProcessors: [
      new BatchSpanProcessor(new ReportingExporter(exporter, reporter), {
        scheduledDelayMillis: options.exportDelayMs ?? 2000,
      }),
    ],
  });
  provider.register();
  setTracingState({ ids });
  let closing: Promise<void> | undefined;
  return {
    enabled: true,
    close: () => {
      closing ??= (async () => {
        setTracingState(undefined);
        await provider.shutdown().catch(() => undefined);
        trace.disable();
        context.disable();
        propagation.disable();
      })();
      return closing;
    },
  };
}

function samplerOf(name: SamplerName, ratio = 1): Sampler {
  const root = {
    always_on: () => new AlwaysOnSampler(),
    always_off: () => new AlwaysOffSampler(),
    traceidratio: () => new TraceIdRatioBasedSampler(ratio),
  };
  if (name.startsWith('parentbased_')) {
    return new ParentBasedSampler({ root: root[name.slice(12) as keyof typeof root]() });
  }
  return root[name as keyof typeof root]();
}

/** The two lines a process's log gets about its exporter. */
interface ExportLog {
  warn(message: string, meta: Record<string, unknown>): unknown;
  info(message: string, meta: Record<string, unknown>): unknown;
}

/**
 * startTracing for a service's main(): a log line saying where spans go, and the exporter's trouble logged once
 * (spans are then dropped, nothing else is affected) and its recovery once.
 */
export function startProcessTracing(settings: TracingSettings, serviceName: string, log: ExportLog): Tracing {
  const tracing = startTracing(settings, {
    defaultServiceName: serviceName,
    reporter: {
      failing: (error) =>
        log.warn('cannot export traces; spans are dropped until the collector answers', {
          endpoint: settings.endpoint,
          error,
        }),
      recovered: () => log.info('exporting traces again', { endpoint: settings.endpoint }),
    },
  });
  if (tracing.enabled) {
    log.info('tracing on', {
      endpoint: settings.endpoint,
      sampler: settings.sampler,
      service: settings.serviceName ?? serviceName,
    });
  }
  return tracing;
}

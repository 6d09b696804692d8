/** The standard sampler names of OTEL_TRACES_SAMPLER. */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** What a process needs to trace: parsed once by @orch/config from the OTEL_* variables. */
export interface TracingSettings {
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); `/v1/traces` is appended. No endpoint: tracing is off. */
  endpoint?: string;
  /** OTEL_EXPORTER_OTLP_HEADERS: sent with every export (a vendor's API key, say). */
  headers?: Record<string, string>;
  /** OTEL_SERVICE_NAME; each process passes its own default (orchestrator-api, orchestrator-worker, ...). */
  serviceName?: string;
  sampler: SamplerName;
  /** OTEL_TRACES_SAMPLER_ARG: the ratio of the *traceidratio samplers (0..1). */
  samplerArg?: number;
}

import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON request carries it, flattened for assertions. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  /** 0 unset, 1 ok, 2 error. */
  status: number;
  statusMessage?: string;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
type OtlpAttributes = { key: string; value: OtlpValue }[] | undefined;
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpAttributes;
  events?: { name: string; attributes?: OtlpAttributes }[];
  status?: { code?: number; message?: string };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttributes };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

/**
 * A local OTLP/HTTP collector for tests: decodes the JSON the exporter posts to /v1/traces and keeps the spans.
 * `requests` counts every POST, whatever its path.
 */
export class OtlpReceiver extends EventEmitter {
  readonly spans: ReceivedSpan[] = [];
  requests = 0;
  /** The headers of the latest request. */
  headers: Record<string, string | string[] | undefined> = {};

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    super();
  }

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (receiver) receiver.headers = req.headers;
        receiver?.receive(req.url ?? '', Buffer.concat(chunks).toString());
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${port}`);
    return receiver;
  }

  private receive(path: string, text: string): void {
    this.requests++;
    if (path !== '/v1/traces') return;
    const body = JSON.parse(text) as OtlpRequest;
    for (const resource of body.resourceSpans ?? []) {
      const service = String(attributesOf(resource.resource?.attributes)['service.name'] ?? '');
      for (const scope of resource.scopeSpans ?? [])
        for (const span of scope.spans ?? []) this.spans.push(flatten(service, span));
    }
    this.emit('spans');
  }

  /** Resolves once the spans received satisfy `done` (checked on every export). */
  until(done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done(this.spans)) return;
        this.off('spans', check);
        resolve(this.spans);
      };
      this.on('spans', check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function flatten(service: string, span: OtlpSpan): ReceivedSpan {
  const received: ReceivedSpan = {
    service,
    traceId: span.traceId,
    spanId: span.spanId,
    name: span.name,
    kind: span.kind,
    startMs: Number(BigInt(span.startTimeUnixNano) / 1_000_000n),
    endMs: Number(BigInt(span.endTimeUnixNano) / 1_000_000n),
    attributes: attributesOf(span.attributes),
    events: (span.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
    status: span.status?.code ?? 0,
  };
  if (span.parentSpanId) received.parentSpanId = span.parentSpanId;
  if (span.status?.message) received.statusMessage = span.status.message;
  return received;
}

function attributesOf(list: OtlpAttributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
      value.doubleValue ??
      value.boolValue;
  }
  return out;
}

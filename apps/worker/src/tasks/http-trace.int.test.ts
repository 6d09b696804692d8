import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHttpTaskSettings } from '@orch/config';
import type { TaskContext } from '@orch/engine';
import { createLogger } from '@orch/logger';
import { startTracing, type Tracing, withSpan } from '@orch/tracing';
import { createHttpTask } from './http.task';

/** A local server that records the headers of every request; it also takes the exporter's posts. */
const seen: IncomingHttpHeaders[] = [];
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url !== '/v1/traces') seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
let base = '';
let tracing: Tracing;
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tracing = startTracing({ endpoint: base, sampler: 'always_on' }, { defaultServiceName: 'test' });
});
afterAll(async () => {
  await tracing.close();
  await new Promise((r) => server.close(r));
});

const errors: { pointer: string; message: string }[] = [];
const http = createHttpTask(parseHttpTaskSettings({ allow: '127.0.0.1/32' }, errors), {});
const context = (): TaskContext => ({
  executionId: 'e',
  taskId: 't',
  attempt: 1,
  signal: new AbortController().signal,
  logger: createLogger({ level: 'error' }),
  log: () => undefined,
});

it("sends the attempt's span as traceparent, so the endpoint joins the run's trace", async () => {
  expect(errors).toEqual([]);
  const span = await withSpan('task t', {}, async (active) => {
    await http({ url: `${base}/orders` }, context());
    return active;
  });
  const { traceId, spanId } = span?.spanContext() ?? { traceId: '?', spanId: '?' };
  expect(seen.at(-1)?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
});

it("leaves a traceparent the task's own headers set", async () => {
  const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  await withSpan('task t', {}, () => http({ url: `${base}/orders`, headers: { traceparent: own } }, context()));
  expect(seen.at(-1)?.traceparent).toBe(own);
});

import { probeHandler, wf } from '@orch/engine/testing';
import { createLogger } from '@orch/logger';
import { MessageCoordinator, SERVICE_CHANNELS, ServiceResponder } from '@orch/messaging';
import { freePort, withDeadline } from '@orch/testing';
import { type ExportReporter, startTracing } from '@orch/tracing';
import { OtlpReceiver, type ReceivedSpan } from '@orch/tracing/testing';
import { type Harness, type Json, startApi, startHarness, type TestApi } from './testing';
import { startBrowser } from './ui/test-browser';

jest.setTimeout(30_000);

const quiet = createLogger({ level: 'error' });
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

/** A diamond: a, then b (a call to the data service) and c (fails once, retried), then d. */
const diamond = wf([
  { id: 'a', type: 'data', parameters: { operation: 'search', input: { value: 1 } } },
  {
    id: 'b',
    type: 'data',
    depends_on: ['a'],
    parameters: { operation: 'traverse', query: { cypher: 'MATCH (n) RETURN n' } },
  },
  {
    id: 'c',
    type: 'data',
    depends_on: ['a'],
    parameters: { operation: 'search', input: { fail_times: 1, value: 2 } },
    retry_policy: { max_retries: 1, backoff_type: 'fixed', initial_delay: '20ms' },
  },
  { id: 'd', type: 'data', depends_on: ['b', 'c'], parameters: { operation: 'search', input: { value: 3 } } },
]);

/** The whole stack in one process: API, worker, the data service over the bus; spans to a local OTLP receiver. */
async function startStack(endpoint: string | undefined, reporter?: ExportReporter) {
  const tracing = startTracing(
    { endpoint, sampler: 'parentbased_always_on', headers: { 'x-collector-key': 'k-1' } },
    { defaultServiceName: 'tracing-test', exportDelayMs: 20, reporter },
  );
  const harness = await startHarness();
  const redis = { host: harness.server.host, port: harness.server.port };
  const coordinator = new MessageCoordinator({ redis, logger: quiet });
  const { requests, responses } = SERVICE_CHANNELS.data;
  const responder = new ServiceResponder({ channel: requests, redis, logger: quiet, handler: async () => 5 });
  await responder.start();
  const probe = probeHandler([]);
  await harness.startWorker({
    handlers: {
      // `traverse` goes to the data service over the bus, like the worker's own data handler; the rest is the probe.
      data: (parameters, context) =>
        parameters.operation === 'traverse'
          ? coordinator.request(
              requests,
              responses,
              {
                ...context,
                execution_id: context.executionId,
                task_id: context.taskId,
                operation: 'traverse',
                parameters,
              },
              { deadline: Date.now() + 10_000, signal: context.signal },
            )
          : probe(parameters, context),
    },
  });
  const api = await startApi(harness, { TRACE_URL_TEMPLATE: 'http://jaeger.test:16686/trace/{trace_id}?x=1&y=2' });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await api.service.close();
      await responder.close();
      await coordinator.close();
      await harness.stop();
      await tracing.close();
    })();
    return stopping;
  };
  return { tracing, harness, api, stop };
}

async function submit(
  api: TestApi,
  harness: Harness,
  headers: Record<string, string> = {},
  workflow: unknown = diamond,
): Promise<Json> {
  const submitted = await api.call('POST', '/api/v1/workflows', { body: { workflow }, headers });
  expect(submitted.status).toBe(202);
  const id = submitted.body.execution_id as string;
  const record = await harness.waitForEnd(id, 20_000);
  expect(record.status).toBe('completed');
  return (await api.call('GET', `/api/v1/workflows/${id}`)).body;
}

describe('OpenTelemetry traces', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
  });

  describe('with an endpoint', () => {
    let stack: Awaited<ReturnType<typeof startStack>>;
    beforeAll(async () => {
      stack = await startStack(receiver.url);
    });
    afterAll(async () => {
      await stack.stop();
    });

    it("makes one trace of a run in the caller's trace: request, run, task attempts, the service call", async () => {
      const record = await submit(stack.api, stack.harness, { traceparent: TRACEPARENT });
      const id = record.execution_id as string;
      expect(record.trace_id).toBe(CALLER_TRACE);
      expect(receiver.headers['x-collector-key']).toBe('k-1'); // OTEL_EXPORTER_OTLP_HEADERS
      const runName = `workflow ${diamond.id}`;
      const spans = await withDeadline(
        receiver.until((all) => all.some((s) => s.name === runName && s.attributes['orch.execution_id'] === id)),
        15_000,
        'the run span',
      );
      const trace = spans.filter((s) => s.traceId === CALLER_TRACE);
      const one = (name: string) => {
        const found = trace.filter((s) => s.name === name);
        expect(found.map((s) => s.name)).toEqual([name]);
        return found[0] as ReceivedSpan;
      };
      const request = one('POST /api/v1/workflows');
      expect(request.parentSpanId).toBe(CALLER_SPAN);
      expect(request.attributes['http.response.status_code']).toBe(202);
      const run = one(runName);
      expect(run.parentSpanId).toBe(request.spanId);
      expect(run.attributes['orch.status']).toBe('completed');

      // Every task attempt is a child of the run, with its ids; the retried task has one span per attempt.
      const attempts = trace.filter((s) => s.name.startsWith('task ')).sort((x, y) => x.startMs - y.startMs);
      expect(attempts.map((s) => [s.name, s.attributes['orch.attempt'], s.attributes['orch.task.outcome']])).toEqual(
        expect.arrayContaining([
          ['task a', 1, 'completed'],
          ['task b', 1, 'completed'],
          ['task c', 1, 'retrying'],
          ['task c', 2, 'completed'],
          ['task d', 1, 'completed'],
        ]),
      );
      expect(attempts).toHaveLength(5);
      for (const span of attempts) {
        expect(span.parentSpanId).toBe(run.spanId);
        expect(span.attributes).toMatchObject({
          'orch.execution_id': id,
          'orch.task.type': 'data',
          'orch.queue': 'tasks',
        });
        expect(typeof span.attributes['orch.worker']).toBe('string');
      }
      const [failed, retried] = attempts.filter((s) => s.name === 'task c') as [ReceivedSpan, ReceivedSpan];
      expect(failed.status).toBe(2);
      expect(failed.statusMessage).toBe('flaky failure 1');
      expect(failed.events.find((e) => e.name === 'orch.retry')?.attributes['orch.backoff_ms']).toBe(20);
      expect(retried.status).toBe(0);
      expect(retried.startMs).toBeGreaterThanOrEqual(failed.endMs);

      // The DAG's order: a task is queued by the attempt of its last dependency to end, and runs after that.
      const span = (name: string) => trace.filter((s) => s.name === name).at(-1) as ReceivedSpan;
      const a = span('task a');
      for (const next of ['b', 'c']) {
        expect(span(`queued ${next}`).startMs).toBeGreaterThanOrEqual(a.startMs);
        expect(span(`queued ${next}`).startMs).toBeLessThanOrEqual(a.endMs);
      }
      const lastDependency = Math.max(span('task b').startMs, retried.startMs);
      expect(span('queued d').startMs).toBeGreaterThanOrEqual(lastDependency);
      expect(span('task d').startMs).toBeGreaterThanOrEqual(span('queued d').endMs);

      // The data service's span is a child of the task attempt that called it.
      const service = one('data-abstractor traverse');
      expect(service.parentSpanId).toBe(span('task b').spanId);
      expect(service.attributes).toMatchObject({ 'orch.execution_id': id, 'orch.task_id': 'b', 'orch.attempt': 1 });

      // Queue time before each task's first run is a span of its own, under the run.
      const queued = trace.filter((s) => s.name.startsWith('queued '));
      expect(queued.map((s) => s.name).sort()).toEqual(['queued a', 'queued b', 'queued c', 'queued d']);
      for (const q of queued) expect(q.parentSpanId).toBe(run.spanId);

      // Log lines written while handling the request carry its trace and span ids.
      const submitted = stack.api.logs.find((l) => l.message === 'workflow submitted' && l.execution_id === id);
      expect(submitted).toMatchObject({ trace_id: CALLER_TRACE, span_id: request.spanId });
    });

    it("puts a sub-workflow's run under the task that started it, and parallel items under their task", async () => {
      const nested = wf([
        {
          id: 'sub',
          type: 'workflow',
          parameters: {
            workflow: { id: 'child', tasks: [{ id: 'inner', type: 'transform', parameters: { output: 1 } }] },
          },
        },
        {
          id: 'fan',
          type: 'parallel',
          parameters: {
            tasks: [
              { type: 'transform', parameters: { output: 'x' } },
              { type: 'transform', parameters: { output: 'y' } },
            ],
          },
        },
      ]);
      const record = await submit(stack.api, stack.harness, { traceparent: TRACEPARENT }, nested);
      const id = record.execution_id as string;
      const spans = await withDeadline(
        receiver.until((all) =>
          all.some((s) => s.name === `workflow ${nested.id}` && s.attributes['orch.execution_id'] === id),
        ),
        15_000,
        'the run span',
      );
      const mine = spans.filter((s) => s.traceId === CALLER_TRACE);
      const named = (name: string) => mine.filter((s) => s.name === name);
      const [run] = named(`workflow ${nested.id}`).filter((s) => s.attributes['orch.execution_id'] === id);
      // A waiting task's job runs twice: it parks (an orch.wait event) and comes back (orch.resumed) to finish.
      const sub = named('task sub');
      expect(sub.map((s) => [s.parentSpanId, s.attributes['orch.task.outcome']])).toEqual([
        [run?.spanId, 'parked'],
        [run?.spanId, 'completed'],
      ]);
      expect(sub[0]?.events.map((e) => e.name)).toEqual(['orch.wait']);
      expect(sub[1]?.events.map((e) => e.name)).toEqual(['orch.resumed']);
      const [child] = named('workflow child');
      expect(child?.parentSpanId).toBe(sub[0]?.spanId);
      expect(named('task inner').map((s) => s.parentSpanId)).toEqual([child?.spanId]);
      const fan = named('task fan');
      const items = [...named('task fan[0]'), ...named('task fan[1]')];
      expect(items).toHaveLength(2);
      for (const item of items) expect(item.parentSpanId).toBe(fan[0]?.spanId);
    });

    it("links the run page to the run's trace through TRACE_URL_TEMPLATE", async () => {
      const html = await stack.api.call('GET', '/ui/');
      expect(html.status).toBe(200);
      expect(html.text).toContain(
        '<meta name="orch-trace-url" content="http://jaeger.test:16686/trace/{trace_id}?x=1&#38;y=2" />',
      );
      const record = await submit(stack.api, stack.harness, { traceparent: TRACEPARENT });
      const browser = await startBrowser();
      try {
        const { page, errors } = await browser.tab();
        await page.goto(`${stack.api.url}/ui/#/runs/${record.execution_id}`);
        const link = page.locator('.run-head a.trace-link');
        await link.waitFor();
        expect(await link.getAttribute('href')).toBe(`http://jaeger.test:16686/trace/${CALLER_TRACE}?x=1&y=2`);
        expect(await link.textContent()).toBe(CALLER_TRACE);
        await browser.screenshot(page, 'run-page-trace-link');
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    });

    it('starts a trace of its own without a caller, with the request span as the root', async () => {
      expect((await stack.api.call('GET', '/health')).status).toBe(200);
      const record = await submit(stack.api, stack.harness);
      const id = record.execution_id as string;
      expect(record.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(record.trace_id).not.toBe(CALLER_TRACE);
      const spans = await withDeadline(
        receiver.until((all) =>
          all.some((s) => s.name.startsWith('workflow ') && s.attributes['orch.execution_id'] === id),
        ),
        15_000,
        'the run span',
      );
      const trace = spans.filter((s) => s.traceId === record.trace_id);
      const roots = trace.filter((s) => s.parentSpanId === undefined);
      expect(roots.map((s) => s.name)).toEqual(['POST /api/v1/workflows']);
      expect(trace.filter((s) => s.name.startsWith('task ')).length).toBe(5);
      // Probes are not traced (the health check came before the run, so its span would have been exported first).
      expect(spans.filter((s) => s.attributes['url.path'] === '/health')).toEqual([]);
    });
  });

  describe('without an endpoint', () => {
    let stack: Awaited<ReturnType<typeof startStack>>;
    beforeAll(async () => {
      stack = await startStack(undefined);
    });
    afterAll(async () => {
      await stack.stop();
    });

    it('starts nothing, exports nothing and stores no trace id, even for a caller that sends a traceparent', async () => {
      expect(stack.tracing.enabled).toBe(false);
      const before = receiver.requests;
      const record = await submit(stack.api, stack.harness, { traceparent: TRACEPARENT });
      expect(record.trace_id).toBeUndefined();
      const submitted = stack.api.logs.find(
        (l) => l.message === 'workflow submitted' && l.execution_id === record.execution_id,
      );
      expect(submitted).toBeDefined();
      expect(submitted?.trace_id).toBeUndefined();
      await stack.stop();
      expect(receiver.requests).toBe(before);
    });
  });

  describe('with a collector that does not answer', () => {
    it('runs the workflow all the same and reports the failing export once', async () => {
      const failures: string[] = [];
      const stack = await startStack(`http://127.0.0.1:${await freePort()}`, {
        failing: (error) => failures.push(error),
        recovered: () => undefined,
      });
      try {
        const first = await submit(stack.api, stack.harness, { traceparent: TRACEPARENT });
        const second = await submit(stack.api, stack.harness);
        expect([first.status, second.status]).toEqual(['completed', 'completed']);
        expect(second.trace_id).toMatch(/^[0-9a-f]{32}$/);
      } finally {
        await stack.stop();
      }
      expect(failures).toHaveLength(1);
    });
  });
});

import { Writable } from 'node:stream';
import { loadConfig } from '@orch/config';
import { createLogger } from '@orch/logger';
import { startWorkerProcess, type WorkerProcess } from '../../worker/src/worker-process';
import {
  ChannelRecorder,
  type Harness,
  startApi,
  startHarness,
  type TestApi,
  testEnv,
  waitForLogs,
  wf,
} from './testing';

jest.setTimeout(60_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let h: Harness;
let api: TestApi;
let worker: WorkerProcess;
const workerLogs: Record<string, unknown>[] = [];
beforeAll(async () => {
  h = await startHarness();
  api = await startApi(h);
  // A real worker process's wiring (its own logger), in this process, on the harness's Redis and key prefix.
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) workerLogs.push(JSON.parse(line));
      done();
    },
  });
  worker = await startWorkerProcess(
    loadConfig(testEnv(h, { RECOVERY_ENABLED: 'false' })),
    createLogger({ level: 'debug', stream, defaults: { service: 'worker-test' } }),
  );
});
afterAll(async () => {
  await worker?.close();
  await api?.service.close();
  await h?.stop();
});

const flaky = {
  id: 'lookup',
  type: 'data',
  parameters: { operation: 'search' },
  retry_policy: { max_retries: 1, backoff_type: 'fixed', initial_delay: '50ms' },
};

describe('request ids', () => {
  it('follow a run from the API request to its tasks’ log lines on the worker', async () => {
    const answer = await api.call('POST', '/api/v1/workflows', {
      headers: { 'x-request-id': 'req-e2e-1' },
      body: { workflow: wf([flaky], { id: 'traced' }) },
    });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-request-id')).toBe('req-e2e-1');
    const id = answer.body.execution_id;
    const record = await h.waitForEnd(id);
    expect(record.request_id).toBe('req-e2e-1');
    expect((await api.call('GET', `/api/v1/workflows/${id}`)).body.request_id).toBe('req-e2e-1');
    // API side: the request line and the submission line.
    const line = await api.waitForLog(
      (l) => l.message === 'request' && l.route === '/api/v1/workflows',
      'request line',
    );
    expect(line.request_id).toBe('req-e2e-1');
    expect(api.logs.find((l) => l.message === 'workflow submitted' && l.execution_id === id)?.request_id).toBe(
      'req-e2e-1',
    );
    // Worker side: every line the task wrote (no data-abstractor runs here, so it fails, is retried, fails).
    const taskLines = workerLogs.filter((l) => l.execution_id === id && l.task_id === 'lookup');
    expect(taskLines.map((l) => l.message)).toEqual(
      expect.arrayContaining(['calling service', 'task attempt failed; it will be retried', 'task failed']),
    );
    expect(new Set(taskLines.map((l) => l.request_id))).toEqual(new Set(['req-e2e-1']));
  });

  it('are made up when the caller sends none or one that is not a plain token, and returned', async () => {
    for (const sent of [undefined, 'has spaces', 'x'.repeat(200), '<script>x</script>', 'a"b']) {
      const answer = await api.call('GET', '/api/v1/templates', { headers: sent ? { 'x-request-id': sent } : {} });
      expect(answer.headers.get('x-request-id')).toMatch(UUID);
    }
    const created = await api.call('POST', '/api/v1/workflows', {
      body: { workflow: wf([{ id: 't', type: 'transform', parameters: { output: 1 } }]) },
    });
    const generated = created.headers.get('x-request-id');
    expect(generated).toMatch(UUID);
    expect((await h.waitForEnd(created.body.execution_id)).request_id).toBe(generated);
  });

  it('are kept by a sub-workflow from its parent, and given to a retry by its own request', async () => {
    const nested = wf([{ id: 'child', type: 'workflow', parameters: { workflow: wf([flaky], { id: 'inner' }) } }]);
    const answer = await api.call('POST', '/api/v1/workflows', {
      headers: { 'x-request-id': 'req-parent' },
      body: { workflow: nested },
    });
    const parent = await h.waitForEnd(answer.body.execution_id);
    expect(parent.status).toBe('failed'); // its child's only task fails: no data-abstractor runs here
    const graph = await api.call('GET', `/ui/api/runs/${parent.execution_id}/graph`);
    const childId = graph.body.tasks[0].child_execution_id;
    expect((await h.waitForEnd(childId)).request_id).toBe('req-parent');
    const retried = await api.call('POST', `/api/v1/workflows/${parent.execution_id}/retry`, {
      headers: { 'x-request-id': 'req-retry' },
    });
    expect(retried.status).toBe(202);
    expect((await h.waitForEnd(retried.body.execution_id)).request_id).toBe('req-retry');
  });

  it('are made for each bus message and kept with the run it starts', async () => {
    const responses = await ChannelRecorder.start(h, 'workflow-responses');
    try {
      await h.connection.publish(
        'workflow-requests',
        JSON.stringify({
          correlation_id: 'bus-traced',
          workflow: wf([{ id: 't', type: 'transform', parameters: { output: 1 } }]),
        }),
      );
      const accepted = await responses.waitFor(
        (m) => m.type === 'accepted' && m.correlation_id === 'bus-traced',
        'accepted',
      );
      const [line] = await waitForLogs(
        [api],
        (l) => l.message === 'workflow submitted' && l.source === 'bus',
        1,
        'bus line',
      );
      expect(line?.request_id).toMatch(UUID);
      expect((await h.waitForEnd(accepted.execution_id)).request_id).toBe(line?.request_id);
    } finally {
      await responses.stop();
    }
  });
});

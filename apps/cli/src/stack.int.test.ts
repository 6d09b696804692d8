import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@orch/testing';
import { type RunningStack, redisAnswers, startStack } from './service-stack';

jest.setTimeout(180_000);

let stack: RunningStack;
const lines: string[] = [];
beforeAll(async () => {
  // A port where nothing listens, so `up` starts its own redis-server, as on a machine without Redis.
  const unusedPort = await freePort();
  expect(await redisAnswers('127.0.0.1', unusedPort)).toBe(false);
  stack = await startStack({
    env: {
      PATH: process.env.PATH,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(unusedPort),
      ORCHESTRATOR_PORT: String(await freePort()),
      ORCHESTRATOR_WORKSPACE: mkdtempSync(join(tmpdir(), 'orch-stack-')),
      ORCHESTRATOR_TEMPLATES: join(__dirname, '../../../templates'),
      LOG_LEVEL: 'warn',
    },
    log: (line) => lines.push(line),
  });
});
afterAll(async () => {
  await stack?.stop();
});

async function post(path: string, body: unknown) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Follows the run's Server-Sent Events until the final event, then reads the record. */
async function finalRecord(id: string) {
  const events = await fetch(`${stack.apiUrl}/api/v1/workflows/${id}/events`);
  await events.text(); // the stream ends when the run ends
  const response = await fetch(`${stack.apiUrl}/api/v1/workflows/${id}`);
  return (await response.json()) as {
    status: string;
    error?: string;
    tasks: { id: string; status: string; output: unknown }[];
  };
}

describe('orchestrator up', () => {
  it('started a private Redis, the API, a worker and the stand-ins', () => {
    expect(stack.redis.private).toBe(true);
    expect(lines.some((l) => l.includes('started a private redis-server'))).toBe(true);
  });

  it('runs data-analysis-basic end to end through the stand-ins, via the reference curl body', async () => {
    const submitted = await post('/api/v1/workflows', {
      correlation_id: 'workflow-001',
      workflow_template: 'data-analysis-basic',
      variables: { query_limit: 50, analysis_prompt: 'Identify key trends in the data' },
    });
    expect(submitted.status).toBe(202);
    const record = await finalRecord(submitted.body.execution_id as string);
    expect([record.status, record.error]).toEqual(['completed', undefined]);
    const task = (id: string) => record.tasks.find((t) => t.id === id);
    const graph = task('graph_traversal')?.output as { rows: unknown[]; count: number };
    expect(graph.count).toBeGreaterThan(0);
    const stats = (task('process_data')?.output as { exit_code: number; json: { rows: number } } | undefined)?.json;
    expect(stats?.rows).toBe(graph.count); // the exec step saw the data step's output
    const report = task('generate_report')?.output as { title: string; statistics: unknown; summary: unknown };
    expect(report.title).toBe('Data analysis: workflow orchestration');
    expect(report.statistics).toEqual(stats);
    expect(typeof report.summary).toBe('string');
  });

  it("serves the worker's /metrics, with the tasks the runs above ran", async () => {
    expect(stack.workerMetricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const text = await (await fetch(stack.workerMetricsUrl)).text();
    expect(text).toMatch(
      /^orchestrator_worker_task_attempts_total\{[^}]*type="data"[^}]*outcome="completed"[^}]*\} [1-9]/m,
    );
  });

  it('runs ai-content-pipeline end to end, taking the quality gate', async () => {
    const submitted = await post('/api/v1/workflows', {
      workflow_template: 'ai-content-pipeline',
      variables: { topic: 'Redis streams' },
    });
    const record = await finalRecord(submitted.body.execution_id as string);
    expect(record.status).toBe('completed');
    const status = Object.fromEntries(record.tasks.map((t) => [t.id, t.status]));
    expect(status).toMatchObject({
      outline: 'completed',
      draft: 'completed',
      review: 'completed',
      quality_gate: 'completed',
    });
    const taken = status.package === 'completed' ? 'package' : 'flag_for_review';
    expect(status[taken === 'package' ? 'flag_for_review' : 'package']).toBe('skipped');
    expect(record.tasks.find((t) => t.id === taken)?.output).toMatchObject({ topic: 'Redis streams' });
  });
});

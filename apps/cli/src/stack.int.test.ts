import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, withDeadline } from '@orch/testing';
import { type RunningStack, startStack } from './service-stack';
import { redisAnswers } from './stack-redis';

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
    // Signed service messages need a shared secret; `up` made one since the environment had none.
    expect(lines).toContain('generated a SERVICE_SECRET for the processes of this stack');
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
    const exec = task('process_data')?.output as { mode: string; json: { rows: number } } | undefined;
    expect(exec?.mode).toBe('sandbox'); // the exec-agent ran it under bubblewrap
    const stats = exec?.json;
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

/** The bash blocks of one README section, as written. */
function readmeBlocks(section: string): string[] {
  const text = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
  const start = text.indexOf(`\n${section}\n`);
  const end = text.indexOf('\n## ', start + section.length + 2);
  return [...text.slice(start, end).matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

function bash(script: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      { cwd: join(__dirname, '../../..'), env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe('the README examples, against `pnpm start`', () => {
  it('First run: the curl and the CLI commands work as written (with the stack’s port)', async () => {
    const [block] = readmeBlocks('### First run');
    const script = (block as string).replaceAll('http://localhost:8080', stack.apiUrl);
    const [curl, cli] = script.split('\npnpm orchestrator');
    const created = await bash(`curl -s ${(curl as string).trim().slice('curl '.length)}`);
    expect(JSON.parse(created.out)).toMatchObject({ status: 'running', created: true });
    const run = await bash(`pnpm orchestrator${cli}`, { ORCHESTRATOR_URL: stack.apiUrl });
    expect([run.code, run.out]).toEqual([0, expect.stringMatching(/run completed after/)]);
  });

  it('Message bus: the redis-cli commands work as written (with the host and port `pnpm start` printed)', async () => {
    const [block] = readmeBlocks('## Message bus');
    const script = (block as string).replaceAll(
      '-h 127.0.0.1 -p 6379',
      `-h ${stack.redis.host} -p ${stack.redis.port}`,
    );
    const [listen, publish] = script.split('\n\n');
    const subscriber = spawn('bash', ['-c', (listen as string).trim()]);
    let heard = '';
    // Only whole lines: a chunk of redis-cli's output can end in the middle of a message.
    const messages = () =>
      heard
        .split('\n')
        .slice(0, -1)
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
    try {
      await withDeadline(
        new Promise<void>((resolve) => {
          subscriber.stdout.on('data', (chunk: Buffer) => {
            heard += chunk.toString();
            if (heard.includes('workflow-responses')) resolve();
          });
        }),
        10_000,
        'redis-cli SUBSCRIBE to answer',
      );
      expect((await bash(publish as string)).out.trim()).toMatch(/^[1-9]\d*$/); // receivers: the API replica
      await withDeadline(
        new Promise<void>((resolve) => {
          const check = () => messages().some((m) => m.type === 'completed') && resolve();
          subscriber.stdout.on('data', check);
          check();
        }),
        30_000,
        'the run to complete',
      );
      expect(messages().map((m) => [m.type, m.correlation_id])).toEqual([
        ['accepted', 'test-workflow'],
        ['completed', 'test-workflow'],
      ]);
    } finally {
      subscriber.kill();
    }
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AiAbstractor } from '@orch/ai-abstractor/testing';
import { DataAbstractor } from '@orch/data-abstractor/testing';
import type { TaskContext, TaskHandler } from '@orch/engine';
import { ExecAgent } from '@orch/exec-agent/testing';
import { createLogger } from '@orch/logger';
import { MessageCoordinator } from '@orch/messaging';
import { parseDocument } from '@orch/templates';
import { type RedisServer, startRedisServer } from '@orch/testing';
import { createServiceHandlers } from './service-handlers';

const logger = createLogger({ level: 'error' });
/** The workers' and services' SERVICE_SECRET: every request and reply is signed. */
const SECRET = 'contract-test-secret-0123456789abcdef';
const templatesDir = join(__dirname, '../../../../templates');

interface TemplateTask {
  id: string;
  type: 'data' | 'ai' | 'exec';
  parameters: Record<string, unknown>;
}

function loadTasks(file: string): Map<string, TemplateTask> {
  const { value } = parseDocument(readFileSync(join(templatesDir, file), 'utf8'));
  const tasks = (value as { workflow: { tasks: TemplateTask[] } }).workflow.tasks;
  return new Map(tasks.map((t) => [t.id, t]));
}

/**
 * Replaces each `${expression}` whose text is a key of `values`: a whole-string expression keeps the value's
 * type, an embedded one is stringified. Just enough of the engine's interpolation to feed the stand-ins here.
 */
function fill(value: unknown, values: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole && (whole[1] as string) in values) return values[whole[1] as string];
    return value.replace(/\$\{([^}]*)\}/g, (all, expression: string) => {
      if (!(expression in values)) return all;
      const v = values[expression];
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  }
  return value;
}

/** The built-in templates' service steps, in dependency order, against the stand-ins: their outputs fit what the templates read. */
describe('built-in templates against the stand-ins', () => {
  let server: RedisServer;
  let workspace: string;
  let coordinator: MessageCoordinator;
  // Loosely typed: these tests also send parameters the schemas refuse, to see what the services answer.
  let handlers: Record<'data' | 'ai' | 'exec', TaskHandler>;
  let services: { close(): Promise<void> }[];

  beforeAll(async () => {
    server = await startRedisServer();
    workspace = mkdtempSync(join(tmpdir(), 'templates-'));
    const redis = { host: server.host, port: server.port };
    const data = new DataAbstractor({ redis, logger, secret: SECRET });
    const ai = new AiAbstractor({ redis, logger, secret: SECRET });
    const exec = new ExecAgent({ redis, logger, workspaceDir: workspace, secret: SECRET });
    await Promise.all([data.start(), ai.start(), exec.start()]);
    services = [data, ai, exec];
    coordinator = new MessageCoordinator({ redis, logger, secret: SECRET });
    handlers = createServiceHandlers({
      coordinator,
      openai: { model: 'gpt-4o-mini', timeoutMs: 5000 },
    }) as unknown as typeof handlers;
  });
  afterAll(async () => {
    await coordinator.close();
    await Promise.all(services.map((s) => s.close()));
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  const context = (taskId: string): TaskContext => ({
    executionId: 'tpl-1',
    taskId,
    attempt: 1,
    signal: new AbortController().signal,
    deadline: Date.now() + 20_000,
    logger,
    log: () => undefined,
  });

  const run = async (tasks: Map<string, TemplateTask>, id: string, values: Record<string, unknown>) => {
    const task = tasks.get(id) as TemplateTask;
    return (await handlers[task.type](fill(task.parameters, values) as Record<string, unknown>, context(id))) as Record<
      string,
      // biome-ignore lint/suspicious/noExplicitAny: outputs are read the way templates read them
      any
    >;
  };

  it('data-analysis-basic', async () => {
    // The exec step runs python3 in the sandbox, which sees /usr/bin; ./scripts/bootstrap.sh installs it there.
    if (spawnSync('/usr/bin/python3', ['--version']).status !== 0)
      throw new Error('/usr/bin/python3 is not installed: run ./scripts/bootstrap.sh');
    const tasks = loadTasks('data-analysis-basic.yaml');
    const vars = { query_limit: 50, search_text: 'workflow orchestration', top_k: 5, analysis_prompt: 'Find trends' };
    const graph = await run(tasks, 'graph_traversal', vars);
    const matches = await run(tasks, 'vector_search', vars);
    expect(graph.count).toBe(18);
    expect(matches.count).toBe(5);
    const combined = { graph, matches };
    const processed = await run(tasks, 'process_data', { 'json(combine_data.output)': JSON.stringify(combined) });
    expect(processed.json).toEqual({
      rows: 18,
      labels: { Person: 15, Company: 6, Project: 12, Topic: 3 },
      matches: 5,
      best_match: 'doc-2',
    });
    const analysis = await run(tasks, 'ai_analysis', {
      ...vars,
      'json(process_data.output.json)': JSON.stringify(processed.json),
      'json(vector_search.output.matches)': JSON.stringify(matches.matches),
    });
    expect(typeof analysis.json.summary).toBe('string');
    expect(analysis.json.trends.length).toBeGreaterThan(0);
  });

  it('ai-content-pipeline', async () => {
    const tasks = loadTasks('ai-content-pipeline.yaml');
    const vars = { topic: 'Redis streams', audience: 'software engineers', tone: 'clear and practical' };
    const outline = await run(tasks, 'outline', vars);
    const draft = await run(tasks, 'draft', { 'outline.output.text': outline.text });
    const review = await run(tasks, 'review', { 'draft.output.text': draft.text });
    const seo = await run(tasks, 'seo_analysis', { 'draft.output.text': draft.text });
    expect(review.json.score).toBeGreaterThanOrEqual(0.7); // the quality gate's default min_quality
    expect(review.json.issues).toEqual(expect.any(Array));
    expect(seo.json).toMatchObject({ title: expect.any(String), description: expect.any(String) });
    expect(seo.json.keywords.length).toBeGreaterThan(0);
    const optimized = await run(tasks, 'optimize', {
      'json(default(review.output.json.issues, []))': JSON.stringify(review.json.issues),
      'json(default(seo_analysis.output.json.keywords, []))': JSON.stringify(seo.json.keywords),
      'draft.output.text': draft.text,
    });
    expect(optimized.text.length).toBeGreaterThan(0);
  });
});

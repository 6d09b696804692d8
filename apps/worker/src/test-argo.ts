import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Harness,
  type Json,
  ROOT,
  readSse,
  startApi,
  startHarness,
  TEST_SERVICE_SECRET,
  type TestApi,
} from '@orch/api/testing';
import type { TemplateDefinition, WorkflowDefinition } from '@orch/core';
import { ExecAgent } from '@orch/exec-agent/testing';
import { createLogger } from '@orch/logger';
import { MessageCoordinator } from '@orch/messaging';
import type { ExecutionEvent, ExecutionRecord } from '@orch/run-model';
import { parseDocument, TemplateCatalog } from '@orch/templates';
import { createExecTask } from './tasks/exec.task';

/** The translated Argo examples: templates, one per file, the catalog of the stack below. */
export const EXAMPLES = join(ROOT, 'examples/argo');

/**
 * Argo's examples as they run for users: a real API on the examples' catalog, a worker whose `exec` tasks run real
 * commands through the exec-agent (sandboxed), and a private redis-server. Runs are submitted and read through the
 * API, their events through its SSE stream.
 */
export interface ArgoStack {
  h: Harness;
  api: TestApi;
  /** Submits a POST /api/v1/workflows body; the execution id. */
  submit(body: Json): Promise<string>;
  /** Submits and follows the run to its end through the API: its events (SSE) and its full record. */
  run(body: Json): Promise<{ id: string; events: ExecutionEvent[]; record: ExecutionRecord }>;
  /** Follows a submitted run to its end. */
  follow(id: string): Promise<{ events: ExecutionEvent[]; record: ExecutionRecord }>;
  stop(): Promise<void>;
}

export async function startArgoStack(
  options: { maxSubworkflowDepth?: number; exitGraceMs?: number; env?: Record<string, string> } = {},
): Promise<ArgoStack> {
  const h = await startHarness({ maxSubworkflowDepth: options.maxSubworkflowDepth, exitGraceMs: options.exitGraceMs });
  const logger = createLogger({ level: 'error' });
  const redis = { host: h.server.host, port: h.server.port };
  const workspace = mkdtempSync(join(tmpdir(), 'argo-examples-'));
  const agent = new ExecAgent({ redis, logger, workspaceDir: workspace, secret: TEST_SERVICE_SECRET });
  await agent.start();
  const coordinator = new MessageCoordinator({ redis, logger, secret: TEST_SERVICE_SECRET });
  const catalog = await TemplateCatalog.load(EXAMPLES);
  if (catalog.problems.length > 0) throw new Error(`broken examples: ${JSON.stringify(catalog.problems)}`);
  const templates = Object.fromEntries(catalog.list().map((t) => [t.id, catalog.get(t.id)]));
  await h.startWorker({ concurrency: 30, templates, handlers: { exec: createExecTask({ coordinator }) } });
  const api = await startApi(h, { ORCHESTRATOR_TEMPLATES: EXAMPLES, ...options.env });
  const follow = async (id: string) => {
    const sse = await readSse(`${api.url}/api/v1/workflows/${id}/events`, {}, 60_000);
    const record = await api.call('GET', `/api/v1/workflows/${id}`);
    return { events: sse.events.map((e) => e.data as ExecutionEvent), record: record.body as ExecutionRecord };
  };
  const submit = async (body: Json) => {
    const created = await api.call('POST', '/api/v1/workflows', { body });
    if (created.status !== 202) throw new Error(`submit answered ${created.status}: ${created.text}`);
    return created.body.execution_id as string;
  };
  return {
    h,
    api,
    submit,
    follow,
    async run(body) {
      const id = await submit(body);
      return { id, ...(await follow(id)) };
    },
    async stop() {
      await api.service.close();
      await coordinator.close();
      await agent.close();
      await h.stop();
      rmSync(workspace, { recursive: true, force: true });
    },
  };
}

/** An example's workflow, to submit inline with a change a test needs (a shorter deadline, a slower task). */
export function exampleWorkflow(file: string): WorkflowDefinition {
  const { value } = parseDocument(readFileSync(join(EXAMPLES, file), 'utf8'));
  return structuredClone((value as TemplateDefinition).workflow);
}

/** Tasks of a record by id. */
export const tasksOf = (record: ExecutionRecord) => Object.fromEntries(record.tasks.map((t) => [t.id, t]));

/**
 * The most units running at once according to the event stream: `start` and `end` pick the events that open and close
 * one, `key` names the unit.
 */
export function mostAtOnce(
  events: readonly ExecutionEvent[],
  start: (e: ExecutionEvent) => boolean,
  end: (e: ExecutionEvent) => boolean,
  key: (e: ExecutionEvent) => string,
): number {
  const running = new Set<string>();
  let most = 0;
  for (const event of events) {
    if (start(event)) running.add(key(event));
    else if (end(event)) running.delete(key(event));
    most = Math.max(most, running.size);
  }
  return most;
}

/** Index of the first event that matches; fails the test with `what` when none does. */
export function indexOfEvent(events: readonly ExecutionEvent[], match: (e: ExecutionEvent) => boolean, what: string) {
  const i = events.findIndex(match);
  if (i < 0) throw new Error(`no event: ${what}`);
  return i;
}

import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completion, type ModelServer, startModelServer } from '@orch/generator/testing';
import { type Harness, ROOT, startApi, startHarness, type TestApi } from './testing';

jest.setTimeout(60_000);

const WORKFLOW = {
  id: 'graph-summary',
  name: 'Graph summary',
  tasks: [
    {
      id: 'fetch',
      type: 'data',
      parameters: { operation: 'traverse', query: { cypher: 'MATCH (n) RETURN n LIMIT 10' } },
    },
    { id: 'summarize', type: 'ai', depends_on: ['fetch'], parameters: { prompt: 'Summarize: ${json(fetch.output)}' } },
  ],
};

let h: Harness;
let model: ModelServer;
let api: TestApi;
let unconfigured: TestApi;
beforeAll(async () => {
  h = await startHarness();
  model = await startModelServer(() => ({ json: completion(JSON.stringify(WORKFLOW)) }));
  api = await startApi(h, { OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: 'not-needed', OPENAI_MODEL: 'test-model' });
  unconfigured = await startApi(h);
});
afterAll(async () => {
  await Promise.all([api?.service.close(), unconfigured?.service.close()]);
  await model?.close();
  await h?.stop();
});

const REFERENCE_BODY = {
  prompt:
    'Create a data analysis pipeline that fetches graph data, performs vector search, and generates an AI-powered summary report',
  domain: 'data-science',
  complexity: 'medium',
  required_services: ['data', 'ai', 'exec'],
};

describe('POST /api/v1/generate', () => {
  it('returns the validated workflow with its plan for the reference body, and it can be submitted', async () => {
    const answer = await api.call('POST', '/api/v1/generate', { body: REFERENCE_BODY });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      workflow: WORKFLOW,
      valid: true,
      errors: [],
      attempts: 1,
      model: 'test-model',
      provenance: { domain: 'data-science', complexity: 'medium', required_services: ['data', 'ai', 'exec'] },
    });
    expect(answer.body.plan.levels.map((l: { id: string }[]) => l.map((t) => t.id))).toEqual([
      ['fetch'],
      ['summarize'],
    ]);
    expect(model.requests[0]?.body.model).toBe('test-model');
    const submitted = await api.call('POST', '/api/v1/workflows', { body: { workflow: answer.body.workflow } });
    expect(submitted.status).toBe(202);
  });

  it('answers 400 with pointers for a bad body, before calling the model', async () => {
    const before = model.requests.length;
    const answer = await api.call('POST', '/api/v1/generate', {
      body: { prompt: '', complexity: 'extreme', required_services: ['email'] },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'request body is invalid',
      details: [
        { pointer: '/prompt', message: 'must NOT have fewer than 1 characters' },
        { pointer: '/complexity', message: 'must be one of: "low", "medium", "high"' },
        { pointer: '/required_services/0', message: 'must be one of: "data", "ai", "exec"' },
      ],
    });
    expect(model.requests.length).toBe(before);
  });

  it('answers 503 when no model endpoint is configured', async () => {
    const answer = await unconfigured.call('POST', '/api/v1/generate', { body: REFERENCE_BODY });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({
      error: {
        code: 'SERVICE_UNAVAILABLE',
        message:
          'workflow generation needs a model endpoint: set OPENAI_BASE_URL (any OpenAI-compatible server) and/or OPENAI_API_KEY',
        details: [],
      },
    });
  });
});

describe('POST /api/v1/generate options', () => {
  it('dry_run simulates the workflow with mock service outputs', async () => {
    const answer = await api.call('POST', '/api/v1/generate', { body: { ...REFERENCE_BODY, dry_run: true } });
    expect(answer.status).toBe(200);
    expect(answer.body.dry_run.tasks).toMatchObject({
      fetch: { status: 'completed' },
      summarize: { status: 'completed' },
    });
    expect(answer.body.dry_run.errors).toEqual([]);
  });

  it('execute starts the generated workflow', async () => {
    const answer = await api.call('POST', '/api/v1/generate', { body: { ...REFERENCE_BODY, execute: true } });
    expect(answer.status).toBe(202);
    const id = answer.body.execution.execution_id as string;
    expect(answer.body.execution.links.self).toBe(`/api/v1/workflows/${id}`);
    expect((await api.call('GET', `/api/v1/workflows/${id}`)).body.workflow.id).toBe('graph-summary');
  });

  it('save_as writes a template to the catalog; an existing id gets a new version, never a replaced file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-gen-tpl-'));
    const saving = await startApi(h, {
      ORCHESTRATOR_TEMPLATES: dir,
      OPENAI_BASE_URL: model.baseUrl,
      OPENAI_MODEL: 'test-model',
    });
    try {
      const saved = await saving.call('POST', '/api/v1/generate', {
        body: { ...REFERENCE_BODY, save_as: 'graph-summary' },
      });
      expect(saved.status).toBe(200);
      expect(saved.body.saved_as).toEqual({ id: 'graph-summary', version: '1.0', path: 'graph-summary.yaml' });
      const yaml = readFileSync(join(dir, 'graph-summary.yaml'), 'utf8');
      expect(yaml).toMatch(/^# /); // provenance comment block
      expect((await saving.call('GET', '/api/v1/templates/graph-summary')).status).toBe(200);
      const again = await saving.call('POST', '/api/v1/generate', {
        body: { ...REFERENCE_BODY, save_as: 'graph-summary' },
      });
      expect(again.status).toBe(409);
      expect(again.body.error.message).toBe(
        "template 'graph-summary' already exists; send overwrite: true to add a new version of it (catalog files are never replaced)",
      );
      const next = await saving.call('POST', '/api/v1/generate', {
        body: { ...REFERENCE_BODY, save_as: 'graph-summary', overwrite: true },
      });
      expect(next.status).toBe(200);
      expect(next.body.saved_as).toEqual({ id: 'graph-summary', version: '1.1', path: 'graph-summary@1.1.yaml' });
      expect(readFileSync(join(dir, 'graph-summary.yaml'), 'utf8')).toBe(yaml);
      expect(readdirSync(dir).sort()).toEqual(['graph-summary.yaml', 'graph-summary@1.1.yaml']);
    } finally {
      await saving.service.close();
    }
  });

  it('never replaces a built-in template (the save_as + overwrite attack of issue #15)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-gen-builtin-'));
    cpSync(join(ROOT, 'templates'), dir, { recursive: true });
    const builtin = readFileSync(join(dir, 'data-analysis-basic.yaml'), 'utf8');
    const saving = await startApi(h, { ORCHESTRATOR_TEMPLATES: dir, OPENAI_BASE_URL: model.baseUrl });
    try {
      const before = await saving.call('GET', '/api/v1/templates/data-analysis-basic');
      const attack = await saving.call('POST', '/api/v1/generate', {
        body: { ...REFERENCE_BODY, save_as: 'data-analysis-basic', overwrite: true },
      });
      expect(attack.status).toBe(200);
      expect(attack.body.saved_as.path).toBe(`data-analysis-basic@${attack.body.saved_as.version}.yaml`);
      // The built-in file is byte for byte what it was, and its version still runs when pinned.
      expect(readFileSync(join(dir, 'data-analysis-basic.yaml'), 'utf8')).toBe(builtin);
      const pinned = await saving.call('GET', `/api/v1/templates/data-analysis-basic@${before.body.version}`);
      expect(pinned.body).toEqual(before.body);
      const versions = await saving.call('GET', '/api/v1/templates/data-analysis-basic/versions');
      expect(versions.body.versions.map((v: { version: string }) => v.version)).toEqual([
        attack.body.saved_as.version,
        before.body.version,
      ]);
    } finally {
      await saving.service.close();
    }
  });
});

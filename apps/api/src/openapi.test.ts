import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DURATION_FORMAT, tryParseDuration } from '@orch/core';
import { EVENT_SHAPES, EVENT_TYPES } from '@orch/run-model';
import { TemplateCatalog } from '@orch/templates';
import { allResponses, buildOpenApi, publicSchema } from './openapi';
import { API_LICENSE } from './openapi-common';
import { openapiExamples } from './openapi-examples';
import { requestErrors } from './request-schemas';
import { openapiPath, pathPattern, ROUTES } from './routes';
import { eventSchemaName } from './schemas/events';
import { prepareRequest } from './workflow-request';

type Doc = {
  openapi: string;
  info: { version: string; license: { identifier: string } };
  paths: Record<string, Record<string, { operationId: string; requestBody?: unknown; responses: object }>>;
  components: { schemas: Record<string, { oneOf?: { $ref: string }[]; properties?: Record<string, unknown> }> };
};

describe('buildOpenApi', () => {
  const doc = buildOpenApi(ROUTES, '1.2.3') as Doc;

  it('has one operation per route, under the OpenAPI path', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1.2.3');
    for (const route of ROUTES) {
      expect(doc.paths[openapiPath(route.path)]?.[route.method]?.operationId).toBe(route.operationId);
    }
    const count = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(count).toBe(ROUTES.length);
  });

  it("adds what every route of a kind answers: auth, body, Redis and the HTTP server's limits", () => {
    const submit = doc.paths['/api/v1/workflows']?.post;
    expect(submit?.requestBody).toMatchObject({
      required: true,
      content: {
        'application/json': { schema: { properties: { workflow: { $ref: '#/components/schemas/Workflow' } } } },
      },
    });
    expect(Object.keys(submit?.responses ?? {})).toEqual([
      '200',
      '202',
      '400',
      '401',
      '403',
      '408',
      '409',
      '413',
      '415',
      '429',
      '431',
      '503',
    ]);
    // No key, no body, no Redis: only its own answers and the server's limits.
    expect(Object.keys(doc.paths['/api/v1/templates']?.get?.responses ?? {})).toEqual([
      '200',
      '401',
      '403',
      '408',
      '431',
    ]);
    expect(Object.keys(doc.paths['/health']?.get?.responses ?? {})).toEqual(['200', '408', '431', '503']);
  });

  it("joins a route's own reason to the common one when both answer the same status", () => {
    const approve = ROUTES.find((r) => r.operationId === 'approveTask');
    const merged = allResponses(approve as (typeof ROUTES)[number]);
    expect(merged[403]?.description).toBe(
      "The key is not among the task's `approvers`, or `by` names another key; or: The key lacks the 'run' scope",
    );
    expect(merged[503]).toEqual({
      description: 'Redis is unavailable; try again after Retry-After seconds',
      schema: 'Error',
      headers: ['Retry-After'],
    });
  });

  it('has unique operation ids and a description on every operation', () => {
    const ids = ROUTES.map((r) => r.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ROUTES.filter((r) => r.description.length < 20).map((r) => r.operationId)).toEqual([]);
  });

  it('has one event schema per event type, joined in ExecutionEvent', () => {
    const union = doc.components.schemas.ExecutionEvent?.oneOf?.map((s) => s.$ref) ?? [];
    expect(union).toEqual(EVENT_TYPES.map((t) => `#/components/schemas/${eventSchemaName(t)}`));
    expect(eventSchemaName('task.upstream_failed')).toBe('TaskUpstreamFailedEvent');
    expect(doc.components.schemas.TaskStartedEvent?.properties?.type).toEqual({ const: 'task.started' });
  });

  it("is described in the README's table of events, with each type's fields", () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    for (const type of EVENT_TYPES) {
      const shape = EVENT_SHAPES[type];
      const fields = [...shape.required.map((f) => `\`${f}\``), ...shape.optional.map((f) => `\`${f}\`?`)];
      expect(readme).toContain(`| \`${type}\` | ${fields.join(', ') || '-'} | ${shape.description} |`);
    }
  });

  it('states the license package.json states', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { license: string };
    expect(doc.info.license.identifier).toBe(pkg.license);
    expect(API_LICENSE).toBe(pkg.license);
  });
});

describe('publicSchema', () => {
  it('drops our ajv annotations, says which objects are open, and spells out the duration format', () => {
    const duration = publicSchema({ type: ['number', 'string'], format: DURATION_FORMAT, 'x-message': 'm' }) as {
      pattern: string;
    };
    expect(duration).toEqual({ type: ['number', 'string'], format: DURATION_FORMAT, pattern: duration.pattern });
    const pattern = new RegExp(duration.pattern);
    for (const text of ['1s', '500ms', '1h30m', '3600', '1.5s', ' 24h ']) {
      expect([text, pattern.test(text), tryParseDuration(text) !== undefined]).toEqual([text, true, true]);
    }
    for (const text of ['PT1S', '1x', '', 's', '-1s']) {
      expect([text, pattern.test(text), tryParseDuration(text) !== undefined]).toEqual([text, false, false]);
    }
    expect(publicSchema({ type: 'object' })).toEqual({ type: 'object', additionalProperties: true });
    expect(publicSchema({ type: 'object', properties: { a: {} } })).toEqual({ type: 'object', properties: { a: {} } });
  });
});

describe('route paths', () => {
  it('converts Express parameters to OpenAPI ones', () => {
    expect(openapiPath('/api/v1/workflows/:id/status')).toBe('/api/v1/workflows/{id}/status');
  });

  it('matches one segment per parameter, literally elsewhere', () => {
    const pattern = pathPattern('/api/v1/workflows/:id/status');
    expect(pattern.test('/api/v1/workflows/abc/status')).toBe(true);
    expect(pattern.test('/api/v1/workflows/abc/status/')).toBe(true);
    expect(pattern.test('/api/v1/workflows/a/b/status')).toBe(false);
    expect(pathPattern('/api/v1/openapi.json').test('/api/v1/openapiXjson')).toBe(false);
  });
});

describe('Try it out examples', () => {
  it('give every body a runnable example: a real template with fitting variables, or an inline workflow, not both', async () => {
    const catalog = await TemplateCatalog.load(join(__dirname, '../../../templates'));
    const examples = openapiExamples(catalog);
    const doc = buildOpenApi(ROUTES, '1', examples) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { example?: unknown }> } }>>;
    };
    for (const route of ROUTES.filter((r) => r.body)) {
      const example =
        doc.paths[openapiPath(route.path)]?.[route.method]?.requestBody?.content['application/json']?.example;
      expect([route.operationId, example === undefined]).toEqual([route.operationId, false]);
      expect([route.operationId, requestErrors(route.body as object, example)]).toEqual([route.operationId, []]);
      const body = example as Record<string, unknown>;
      expect([route.operationId, 'workflow_template' in body && 'workflow' in body]).toEqual([
        route.operationId,
        false,
      ]);
      if ('workflow_template' in body || 'workflow' in body) {
        // It fits: the template exists and the variables pass its types (or the inline workflow validates).
        expect(() => prepareRequest(body, catalog)).not.toThrow();
      }
    }
    expect(examples.bodies.submitWorkflow).toEqual({
      workflow_template: 'data-analysis-basic',
      variables: { query_limit: 50, analysis_prompt: 'Identify key trends in the data' },
    });
    expect(Object.keys(examples.bodies.validateWorkflow as object).sort()).toEqual(['variables', 'workflow']);
  });

  it('fall back to the first template, with its required variables, when the built-in one is not there', () => {
    const catalog = {
      list: () => [
        {
          id: 'mine',
          variables: [
            { name: 'topic', type: 'string', required: true },
            { name: 'n', type: 'integer' },
          ],
        },
      ],
    } as unknown as TemplateCatalog;
    expect(openapiExamples(catalog).bodies.submitWorkflow).toEqual({
      workflow_template: 'mine',
      variables: { topic: 'example' },
    });
    expect(openapiExamples(catalog).params.getTemplate).toEqual({ id: 'mine' });
  });
});

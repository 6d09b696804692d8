import { join } from 'node:path';
import { TemplateCatalog } from '@orch/templates';
import { buildOpenApi } from './openapi';
import { openapiExamples } from './openapi-examples';
import { requestErrors } from './request-schemas';
import { openapiPath, pathPattern, ROUTES } from './routes';
import { prepareRequest } from './workflow-request';

describe('buildOpenApi', () => {
  const doc = buildOpenApi(ROUTES, '1.2.3') as {
    openapi: string;
    info: { version: string };
    paths: Record<string, Record<string, { operationId: string; requestBody?: unknown; responses: object }>>;
  };

  it('has one operation per route, under the OpenAPI path', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1.2.3');
    for (const route of ROUTES) {
      expect(doc.paths[openapiPath(route.path)]?.[route.method]?.operationId).toBe(route.operationId);
    }
    const count = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(count).toBe(ROUTES.length);
  });

  it('documents request bodies from the request schemas and 401 on protected routes only', () => {
    const submit = doc.paths['/api/v1/workflows']?.post;
    expect(submit?.requestBody).toMatchObject({
      required: true,
      content: {
        'application/json': { schema: { properties: { workflow: { $ref: '#/components/schemas/Workflow' } } } },
      },
    });
    expect(Object.keys(submit?.responses ?? {})).toEqual(['200', '202', '400', '401', '403', '413']);
    expect(Object.keys(doc.paths['/health']?.get?.responses ?? {})).toEqual(['200', '503']);
  });

  it('has unique operation ids', () => {
    const ids = ROUTES.map((r) => r.operationId);
    expect(new Set(ids).size).toBe(ids.length);
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

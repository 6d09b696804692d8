import { buildOpenApi } from './openapi';
import { openapiPath, pathPattern, ROUTES } from './routes';

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

import { workflowSchema } from '@orch/core';
import type { OpenApiExamples } from './openapi-examples';
import { RESPONSE_SCHEMAS, ref } from './openapi-schemas';
import { openapiPath, type RouteSpec } from './routes';

type Operation = Record<string, unknown>;

/** Drops our ajv-only annotations (`x-message`, `x-or-expression`) from a schema copy. */
function publicSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(publicSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => !key.startsWith('x-'))
      .map(([key, value]) => [key, publicSchema(value)]),
  );
}

function parameters(route: RouteSpec, examples: OpenApiExamples): object[] {
  const result: object[] = [];
  for (const [, name] of route.path.matchAll(/:([A-Za-z_]+)/g)) {
    const example = examples.params[route.operationId]?.[name as string];
    result.push({ name, in: 'path', required: true, schema: { type: 'string' }, ...(example ? { example } : {}) });
  }
  const query = (route.query as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  for (const [name, schema] of Object.entries(query)) {
    result.push({ name, in: 'query', required: false, schema: publicSchema(schema) });
  }
  if (route.handler === 'events') {
    result.push({
      name: 'Last-Event-ID',
      in: 'header',
      required: false,
      schema: { type: 'string' },
      description: 'Resume after this event',
    });
  }
  return result;
}

function operation(route: RouteSpec, examples: OpenApiExamples): Operation {
  const op: Operation = { operationId: route.operationId, summary: route.summary, tags: [route.tag] };
  const params = parameters(route, examples);
  if (params.length > 0) op.parameters = params;
  if (route.body) {
    const body = publicSchema(route.body) as { properties?: Record<string, unknown> };
    if (body.properties?.workflow) body.properties.workflow = ref('Workflow');
    if (body.properties?.template) body.properties.template = ref('Template');
    // Swagger UI's "Try it out" starts from `example`; without one it builds a body from the schema, which for a
    // oneOf of workflow_template and workflow holds both and is refused.
    const example = examples.bodies[route.operationId];
    op.requestBody = {
      required: !route.bodyOptional,
      content: { 'application/json': { schema: body, ...(example === undefined ? {} : { example }) } },
    };
  }
  const responses: Record<string, unknown> = {};
  for (const [code, response] of Object.entries(route.responses)) {
    const entry: Record<string, unknown> = { description: response.description };
    if (response.schema) entry.content = { 'application/json': { schema: ref(response.schema) } };
    else if (response.contentType) entry.content = { [response.contentType]: { schema: { type: 'string' } } };
    responses[code] = entry;
  }
  const error = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
  if (route.scope === 'none') op.security = [];
  else {
    // OpenAPI 3.1 lets a bearer requirement list the roles it needs: the scope a key must have.
    op.security = [{ bearer: [route.scope] }];
    op['x-required-scope'] = route.scope;
    const extra = Object.entries(route.bodyScopes ?? {}).map(([field, scope]) => `\`${field}\` needs '${scope}'`);
    if (extra.length > 0) op['x-body-scopes'] = route.bodyScopes;
    responses[401] = error('Missing or wrong API key');
    responses[403] = error(`The key lacks the '${route.scope}' scope${extra.length ? ` (${extra.join('; ')})` : ''}`);
  }
  op.responses = responses;
  return op;
}

/**
 * The OpenAPI 3.1 document of `routes`; every route is in it, so it cannot drift from what is served. `examples`
 * (from the catalog, see openapi-examples.ts) make "Try it out" run as is.
 */
export function buildOpenApi(
  routes: readonly RouteSpec[],
  version: string,
  examples: OpenApiExamples = { bodies: {}, params: {} },
): object {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of routes) {
    const path = openapiPath(route.path);
    paths[path] ??= {};
    (paths[path] as Record<string, Operation>)[route.method] = operation(route, examples);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Orchestrator API',
      version,
      description:
        'DAG workflow orchestration on BullMQ and Redis. Send `Authorization: Bearer <key>` when ORCHESTRATOR_API_KEYS is set; each operation names the scope its key needs (`read`, `run` or `admin`, which includes the other two).',
    },
    tags: [
      { name: 'workflows', description: 'Runs: submit, read, follow, cancel, retry' },
      { name: 'templates', description: 'The template catalog and validation' },
      { name: 'schedules', description: 'Cron schedules that start workflows' },
      { name: 'operations', description: 'Health, status, metrics' },
    ],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'One of ORCHESTRATOR_API_KEYS' } },
      schemas: {
        ...RESPONSE_SCHEMAS,
        Workflow: publicSchema(workflowSchema),
        Template: publicSchema(RESPONSE_SCHEMAS.Template),
      },
    },
  };
}

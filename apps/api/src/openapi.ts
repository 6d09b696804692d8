import { DURATION_FORMAT, DURATION_PATTERN } from '@orch/core';
import { API_LICENSE, COMMON_HEADERS, commonResponses, DOCUMENT_DESCRIPTION } from './openapi-common';
import type { OpenApiExamples } from './openapi-examples';
import { COMPONENT_SCHEMAS, ref } from './openapi-schemas';
import { openapiPath, type RouteResponse, type RouteSpec, TAGS } from './routes';

type Operation = Record<string, unknown>;

/**
 * The published form of one of our JSON Schemas: without our ajv-only annotations (`x-message`, `x-or-expression`),
 * with the duration pattern beside our custom format (validators that do not know the format still check the
 * shape), and with objects that list no properties said to be open, so generated clients type them as maps.
 */
export function publicSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(publicSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const entries = Object.entries(schema).filter(([key]) => !key.startsWith('x-'));
  const out: Record<string, unknown> = Object.fromEntries(entries.map(([key, value]) => [key, publicSchema(value)]));
  if (out.format === DURATION_FORMAT) out.pattern = DURATION_PATTERN;
  const open = !('properties' in out || 'additionalProperties' in out || 'patternProperties' in out);
  if (out.type === 'object' && open) out.additionalProperties = true;
  return out;
}

function parameters(route: RouteSpec, examples: OpenApiExamples): object[] {
  const result: object[] = [];
  for (const [, name] of route.path.matchAll(/:([A-Za-z_]+)/g)) {
    const example = examples.params[route.operationId]?.[name as string];
    result.push({ name, in: 'path', required: true, schema: { type: 'string' }, ...(example ? { example } : {}) });
  }
  const query = (route.query ?? {}) as { properties?: Record<string, unknown>; required?: string[] };
  for (const [name, schema] of Object.entries(query.properties ?? {})) {
    const required = query.required?.includes(name) ?? false;
    const description = (schema as { description?: string }).description;
    result.push({ name, in: 'query', required, schema: publicSchema(schema), ...(description ? { description } : {}) });
  }
  if (route.handler === 'events' || route.handler === 'logs')
    result.push({ $ref: '#/components/parameters/LastEventId' });
  result.push({ $ref: '#/components/parameters/RequestId' }, { $ref: '#/components/parameters/TraceParent' });
  return result;
}

/** The route's own responses with those every route of its kind answers; a status in both gets both reasons. */
export function allResponses(route: RouteSpec): Record<number, RouteResponse> {
  const merged: Record<number, RouteResponse> = { ...route.responses };
  for (const [code, common] of Object.entries(commonResponses(route))) {
    const own = merged[Number(code)];
    if (own && own.schema !== common.schema) {
      throw new Error(`${route.operationId}: its ${code} must be an Error answer, as every ${code} of the API is`);
    }
    merged[Number(code)] = own
      ? {
          ...own,
          description: `${own.description}; or: ${common.description}`,
          headers: [...new Set([...(own.headers ?? []), ...(common.headers ?? [])])],
        }
      : common;
  }
  return merged;
}

function response(route: RouteSpec, entry: RouteResponse): object {
  const out: Record<string, unknown> = { description: entry.description };
  // Every answer carries the request's id, the HTTP server's own (408, 431) included.
  const headers = [...(entry.headers ?? []), 'X-Request-Id'];
  out.headers = Object.fromEntries(headers.map((h) => [h, { $ref: `#/components/headers/${h}` }]));
  if (entry.contentType === 'text/event-stream') {
    // The stream is text; contentSchema (JSON Schema 2020-12) names what each message's `data` decodes to.
    const schema = {
      type: 'string',
      contentMediaType: 'text/event-stream',
      contentSchema: ref('ExecutionEvent'),
      description:
        'Server-Sent Events: each `event:` is a type, `id:` its stream id, `data:` an ExecutionEvent as JSON',
    };
    out.content = { [entry.contentType]: { schema } };
  } else if (entry.contentType) {
    out.content = { [entry.contentType]: { schema: { type: 'string' } } };
  } else if (entry.schema) {
    if (!(entry.schema in COMPONENT_SCHEMAS)) throw new Error(`${route.operationId}: no schema ${entry.schema}`);
    out.content = { 'application/json': { schema: ref(entry.schema) } };
    if (entry.stream) {
      const schema = {
        type: 'string',
        contentMediaType: 'text/event-stream',
        contentSchema: ref(entry.stream),
        description: `Server-Sent Events: \`id:\` a line id, \`data:\` a ${entry.stream} as JSON`,
      };
      (out.content as Record<string, unknown>)['text/event-stream'] = { schema };
    }
  }
  return out;
}

function operation(route: RouteSpec, examples: OpenApiExamples): Operation {
  const op: Operation = {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description,
    tags: [route.tag],
  };
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
  if (route.scope === 'none') op.security = [];
  else {
    // OpenAPI 3.1 lets a bearer requirement list the roles it needs: the scope a key must have.
    op.security = [{ bearer: [route.scope] }];
    op['x-required-scope'] = route.scope;
    if (route.bodyScopes) op['x-body-scopes'] = route.bodyScopes;
  }
  const responses = allResponses(route);
  op.responses = Object.fromEntries(
    Object.keys(responses)
      .sort()
      .map((code) => [code, response(route, responses[Number(code)] as RouteResponse)]),
  );
  return op;
}

/**
 * The OpenAPI 3.1 document of `routes`; every route is in it, so it cannot drift from what is served. `examples`
 * (from the catalog, see openapi-examples.ts) make "Try it out" run as is; the contract test runs them too.
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
      description: DOCUMENT_DESCRIPTION,
      license: { name: API_LICENSE, identifier: API_LICENSE },
    },
    servers: [{ url: '/', description: 'The server that serves this document' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'One of ORCHESTRATOR_API_KEYS' },
      },
      headers: COMMON_HEADERS,
      parameters: {
        RequestId: {
          name: 'X-Request-Id',
          in: 'header',
          required: false,
          description: 'Your id for the request: echoed in the answer, logged, and stored with a run it creates',
          schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' },
        },
        TraceParent: {
          name: 'traceparent',
          in: 'header',
          required: false,
          description:
            "W3C trace context: with tracing on, the request's span (and a run it creates) joins this trace; `tracestate` goes with it",
          schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
        },
        LastEventId: {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description: 'Resume after this event: the `id` of the last event received',
          schema: { type: 'string', pattern: '^\\d+-\\d+$' },
        },
      },
      schemas: Object.fromEntries(Object.entries(COMPONENT_SCHEMAS).map(([name, s]) => [name, publicSchema(s)])),
    },
  };
}

import { DURATION_FORMAT, tryParseDuration } from '@orch/core';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Checks live answers against the OpenAPI document with Ajv (draft 2020-12): the status is one the operation lists,
 * the media type one it lists, the body fits the schema with every object closed (a field the document does not
 * name fails), documented headers are there and fit theirs, and each event of a stream fits ExecutionEvent.
 */

type Json = Record<string, unknown>;

export interface LiveAnswer {
  status: number;
  headers: Headers;
  text: string;
}

interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema?: Json }>; headers?: Record<string, Json> }>;
}

const DOC_ID = 'https://orchestrator.invalid/openapi.json';

/** Every object schema that lists properties, closed: the published document leaves them open on purpose. */
export function closeSchemas(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeSchemas);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closeSchemas(v)]));
  if ('properties' in out && !('additionalProperties' in out) && !('unevaluatedProperties' in out)) {
    out.additionalProperties = false;
  }
  return out;
}

export class ContractValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();
  /** `operationId status`, for every answer checked. */
  readonly covered = new Set<string>();

  constructor(readonly doc: Json) {
    // strict: false only for the document's own keywords around the schemas (openapi, discriminator, ...).
    this.ajv = new Ajv2020({ strict: false, allErrors: true, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addFormat(DURATION_FORMAT, { type: 'string', validate: (v: string) => tryParseDuration(v) !== undefined });
    const components = (doc.components ?? {}) as Json;
    this.ajv.addSchema({ $id: DOC_ID, components: { schemas: closeSchemas(components.schemas) } });
  }

  /** The operation of `method` on the document path `path` (`/api/v1/workflows/{id}`). */
  operation(method: string, path: string): Operation {
    const op = (this.doc.paths as Record<string, Record<string, Operation>>)[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`the document has no operation ${method} ${path}`);
    return op;
  }

  /** `operationId status` of every answer the document lists. */
  documentedAnswers(): string[] {
    const paths = this.doc.paths as Record<string, Record<string, Operation>>;
    return Object.values(paths).flatMap((ops) =>
      Object.values(ops).flatMap((op) => Object.keys(op.responses).map((status) => `${op.operationId} ${status}`)),
    );
  }

  /** Problems of `answer` as an answer of the operation; empty when it fits the document. */
  check(method: string, path: string, answer: LiveAnswer): string[] {
    const op = this.operation(method, path);
    const where = `${op.operationId} (${method.toUpperCase()} ${path}) answered ${answer.status}`;
    const response = op.responses[String(answer.status)];
    if (!response) {
      return [
        `${where}, which the document does not list (it lists ${Object.keys(op.responses).join(', ')}): declare ` +
          `${answer.status} in the route's \`responses\` (apps/api/src/routes-<tag>.ts), or in openapi-common.ts if ` +
          `every route of its kind answers it. Body: ${answer.text.slice(0, 300)}`,
      ];
    }
    this.covered.add(`${op.operationId} ${answer.status}`);
    return [
      ...this.checkHeaders(where, response.headers ?? {}, answer.headers),
      ...this.checkBody(where, response, answer),
    ];
  }

  private checkHeaders(where: string, documented: Record<string, Json>, headers: Headers): string[] {
    const problems: string[] = [];
    for (const [name, spec] of Object.entries(documented)) {
      const header = this.resolve(spec);
      const value = headers.get(name);
      if (value === null) {
        if (header.required) problems.push(`${where} without its required ${name} header`);
        continue;
      }
      const schema = header.schema as Json;
      const typed = schema.type === 'integer' && /^\d+$/.test(value) ? Number(value) : value;
      if (!this.ajv.validate(schema, typed))
        problems.push(`${where} with a ${name} header '${value}' that does not fit`);
    }
    return problems;
  }

  private checkBody(where: string, response: Operation['responses'][string], answer: LiveAnswer): string[] {
    const content = response.content;
    if (!content) {
      return answer.text === ''
        ? []
        : [`${where} with a body the document does not describe: ${answer.text.slice(0, 200)}`];
    }
    const type = (answer.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const media = content[type];
    if (!media)
      return [`${where} as ${type || 'no content type'}; the document says ${Object.keys(content).join(', ')}`];
    const schema = media.schema ?? {};
    if (type === 'text/event-stream') return this.checkEvents(where, schema, answer.text);
    if (type !== 'application/json') return typeof answer.text === 'string' ? [] : [`${where} without a text body`];
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return [`${where} with a body that is not JSON: ${answer.text.slice(0, 200)}`];
    }
    return this.validate(where, schema, body);
  }

  /** Each message of an SSE stream: `data` fits the stream's contentSchema, `event` is its type, `id` its id. */
  private checkEvents(where: string, schema: Json, text: string): string[] {
    const problems: string[] = [];
    for (const block of text.split('\n\n').filter((b) => b.trim() !== '' && !b.startsWith(':'))) {
      const fields = new Map(
        block
          .split('\n')
          .filter((l) => !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
      );
      if (!fields.has('data')) continue; // a `retry:` line
      const data = JSON.parse(fields.get('data') as string) as { type?: string; id?: string };
      problems.push(
        ...this.validate(`${where} with the event ${fields.get('event')}`, schema.contentSchema as Json, data),
      );
      // A run's events carry their type and id in `data`; a log's lines carry their id (its end message neither).
      if (data.type !== undefined && fields.get('event') !== data.type)
        problems.push(`${where}: event ${fields.get('event')} carries type ${data.type}`);
      if ((data.id !== undefined || fields.has('id')) && fields.get('id') !== data.id)
        problems.push(`${where}: event id ${fields.get('id')} carries id ${data.id}`);
    }
    return problems;
  }

  private validate(where: string, schema: Json, value: unknown): string[] {
    const validate = this.compile(schema);
    if (validate(value)) return [];
    const ref = String(schema.$ref ?? 'the schema').replace('#/components/schemas/', '');
    return (validate.errors ?? []).map((e) => {
      const field =
        e.keyword === 'additionalProperties'
          ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
          : '';
      const hint =
        e.keyword === 'additionalProperties'
          ? ': a field the document does not name; add it to the schema in apps/api/src/schemas/'
          : '';
      return `${where}: ${ref}${e.instancePath} ${e.message}${field}${hint}`;
    });
  }

  private compile(schema: Json): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      const local = closeSchemas(schema) as Json;
      const rooted = typeof local.$ref === 'string' ? { $ref: `${DOC_ID}${local.$ref}` } : local;
      validate = this.ajv.compile(rooted);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  private resolve(spec: Json): Json {
    const ref = spec.$ref as string | undefined;
    if (!ref) return spec;
    const [, , kind, name] = ref.split('/');
    return (this.doc.components as Record<string, Record<string, Json>>)[kind as string]?.[name as string] ?? {};
  }
}

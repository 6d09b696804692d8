/**
 * # data-abstractor (development stand-in)
 *
 * Answers the orchestrator's `data` tasks on `data-requests` so workflows run end to end without Neo4j or Qdrant.
 * It is NOT a replacement for either: the data is a small bundled sample (sample-data.ts) and queries are read
 * only as far as the built-in templates need.
 *
 * | operation  | parameters                                   | result                                   |
 * |------------|----------------------------------------------|------------------------------------------|
 * | `traverse` | `query.cypher`, `enrich`                     | `{rows: [{n, r, m}], count}`             |
 * | `search`   | `collection`, `text` or `vector`, `top_k`    | `{matches: [{id, score, text, metadata}], count}` |
 * | `enrich`   | `input` (a list), or `query.cypher`, `enrich`| `{items, enriched_with}`                 |
 *
 * - Cypher: `MATCH (a[:Label])[-[r[:TYPE]]->(b[:Label])] RETURN ... [LIMIT n]`; arrows may point either way or
 *   be left out. Nodes are `{id, labels, properties}`, relationships `{id, type, start, end, properties}`.
 * - Search: the `documents` collection (10 short texts). `text` is embedded by a deterministic hashing embedding
 *   (32 dimensions); a `vector` must have 32 numbers. `top_k` defaults to 10. Scores are cosine similarities.
 * - Enrichers: `metadata` (degree and relationship types of a graph node) and `neighbors` (ids of adjacent nodes).
 *   Input items that are not graph nodes get `metadata: {matched: false}`.
 */
import type { Logger } from '@orch/logger';
import { SERVICE_CHANNELS, ServiceCallError, type ServiceRequest, ServiceResponder } from '@orch/messaging';
import type { RedisClient, RedisSettings } from '@orch/redis';
import { parseCypherPattern } from './cypher-pattern';
import { SAMPLE_DOCUMENTS, SAMPLE_NODES, SAMPLE_RELATIONSHIPS } from './sample-data';
import { SampleGraph } from './sample-graph';
import { VectorIndex } from './vector-index';

export interface DataAbstractorOptions {
  logger: Logger;
  redis?: RedisSettings;
  publisher?: RedisClient;
  subscriber?: RedisClient;
  /** SERVICE_SECRET: requests must be signed with it; see ServiceResponder. */
  secret?: string;
  /** See ServiceResponder. */
  maxResponseBytes?: number;
}

const ENRICHERS = ['metadata', 'neighbors'] as const;
type Enricher = (typeof ENRICHERS)[number];
const DEFAULT_QUERY = 'MATCH (n)-[r]->(m) RETURN n, r, m';

export class DataAbstractor {
  private readonly responder: ServiceResponder;
  private readonly graph = new SampleGraph(SAMPLE_NODES, SAMPLE_RELATIONSHIPS);
  private readonly vectors = new VectorIndex(SAMPLE_DOCUMENTS);

  constructor(options: DataAbstractorOptions) {
    this.responder = new ServiceResponder({
      channel: SERVICE_CHANNELS.data.requests,
      service: SERVICE_CHANNELS.data.service,
      logger: options.logger,
      redis: options.redis,
      publisher: options.publisher,
      subscriber: options.subscriber,
      maxResponseBytes: options.maxResponseBytes,
      secret: options.secret,
      handler: async (request) => this.handle(request),
    });
  }

  /** The responder, for tests that wait on its events. */
  get service(): ServiceResponder {
    return this.responder;
  }

  start(): Promise<void> {
    return this.responder.start();
  }

  close(): Promise<void> {
    return this.responder.close();
  }

  /** One request's result; exported for tests that need no Redis. */
  handle(request: Pick<ServiceRequest, 'operation' | 'parameters'>): unknown {
    const p = request.parameters;
    switch (request.operation) {
      case 'traverse':
        return this.traverse(p);
      case 'search':
        return this.search(p);
      case 'enrich':
        return this.enrich(p);
      default:
        throw bad(`unknown operation '${request.operation}'; expected traverse, search or enrich`);
    }
  }

  private traverse(p: Record<string, unknown>) {
    const enrichers = readEnrichers(p.enrich, []);
    const rows = this.graph.match(parseCypherPattern(readCypher(p) ?? DEFAULT_QUERY));
    const enriched = enrichers.length === 0 ? rows : rows.map((row) => this.enrichRow(row, enrichers));
    return { rows: enriched, count: enriched.length, ...(enrichers.length ? { enriched_with: enrichers } : {}) };
  }

  private search(p: Record<string, unknown>) {
    const collection = p.collection ?? 'documents';
    if (typeof collection !== 'string') throw bad('collection must be a string');
    const topK = p.top_k ?? 10;
    if (!Number.isInteger(topK) || (topK as number) < 1) throw bad('top_k must be a positive integer');
    if (p.vector !== undefined && !Array.isArray(p.vector)) throw bad('vector must be a list of numbers');
    const matches = this.vectors.search(
      collection,
      { text: typeof p.text === 'string' ? p.text : undefined, vector: p.vector as number[] | undefined },
      topK as number,
    );
    return { matches, count: matches.length };
  }

  private enrich(p: Record<string, unknown>) {
    const enrichers = readEnrichers(p.enrich, ['metadata']);
    let items: unknown[];
    if (Array.isArray(p.input)) items = p.input;
    else if (p.input !== undefined) throw bad('input must be a list');
    else {
      const cypher = readCypher(p);
      if (!cypher) throw bad('enrich needs input (a list) or query.cypher');
      items = this.graph.match(parseCypherPattern(cypher)).flatMap((row) => Object.values(row));
    }
    return { items: items.map((item) => this.enrichItem(item, enrichers)), enriched_with: enrichers };
  }

  private enrichRow(row: Record<string, unknown>, enrichers: Enricher[]): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(row).map(([key, value]) => [key, isNode(value) ? this.enrichItem(value, enrichers) : value]),
    );
  }

  private enrichItem(item: unknown, enrichers: Enricher[]): Record<string, unknown> {
    const base = item && typeof item === 'object' && !Array.isArray(item) ? { ...item } : { value: item };
    const id = (base as { id?: unknown }).id;
    const node = typeof id === 'string' ? this.graph.node(id) : undefined;
    const out: Record<string, unknown> = base;
    if (!node) {
      out.metadata = { matched: false, source: 'sample-graph' };
      return out;
    }
    if (enrichers.includes('metadata')) {
      out.metadata = { matched: true, labels: node.labels, ...this.graph.metadata(node.id) };
    }
    if (enrichers.includes('neighbors')) out.neighbors = this.graph.neighbours(node.id);
    return out;
  }
}

function bad(message: string): ServiceCallError {
  return new ServiceCallError('BAD_REQUEST', message, { retryable: false });
}

function readCypher(p: Record<string, unknown>): string | undefined {
  if (p.query === undefined) return undefined;
  const cypher = (p.query as { cypher?: unknown } | null)?.cypher;
  if (typeof cypher !== 'string') throw bad('query must be an object with a cypher string');
  return cypher;
}

function readEnrichers(value: unknown, fallback: Enricher[]): Enricher[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value)) throw bad('enrich must be a list');
  for (const name of value) {
    if (!ENRICHERS.includes(name))
      throw bad(`unknown enricher ${JSON.stringify(name)}; known: ${ENRICHERS.join(', ')}`);
  }
  return value as Enricher[];
}

function isNode(value: unknown): value is { id: string; labels: string[] } {
  return !!value && typeof value === 'object' && Array.isArray((value as { labels?: unknown }).labels);
}

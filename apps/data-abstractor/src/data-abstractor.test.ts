import { createLogger } from '@orch/logger';
import { DataAbstractor } from './data-abstractor';

// Never started: no connection is made.
const service = new DataAbstractor({ logger: createLogger({ level: 'error' }), redis: { host: '127.0.0.1', port: 1 } });
const call = (operation: string, parameters: Record<string, unknown>) =>
  service.handle({ operation, parameters }) as Record<string, unknown>;

describe('DataAbstractor (stand-in)', () => {
  it('traverses with LIMIT, rows keyed n, r, m with labelled nodes', () => {
    const result = call('traverse', { query: { cypher: 'MATCH (n)-[r]->(m) RETURN n, r, m LIMIT 3' } });
    expect(result.count).toBe(3);
    const [row] = result.rows as Record<string, { labels?: string[]; type?: string }>[];
    expect(Object.keys(row as object)).toEqual(['n', 'r', 'm']);
    expect(row?.n?.labels).toEqual(['Person']);
    expect(row?.r?.type).toBe('WORKS_AT');
    expect(row?.m?.labels).toEqual(['Company']);
    const all = call('traverse', { query: { cypher: 'MATCH (n)-[r]->(m) RETURN n, r, m LIMIT 1000' } });
    expect(all.count).toBe(18);
    const undirected = call('traverse', { query: { cypher: 'MATCH (n)-[r]-(m) RETURN n,r,m LIMIT 100' } });
    expect(undirected.count).toBe(36);
  });

  it('filters by label and type and enriches nodes on request', () => {
    const result = call('traverse', {
      query: { cypher: 'MATCH (p:Person)-[k:CONTRIBUTES_TO]->(j:Project) RETURN p, j' },
      enrich: ['metadata'],
    });
    expect(result.count).toBe(5);
    expect(result.enriched_with).toEqual(['metadata']);
    const row = (result.rows as Record<string, Record<string, unknown>>[])[0] as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(row)).toEqual(['p', 'k', 'j']);
    expect(row.p?.metadata).toEqual({
      matched: true,
      labels: ['Person'],
      degree: 4,
      relationship_types: ['CONTRIBUTES_TO', 'KNOWS', 'WORKS_AT'],
      source: 'sample-graph',
    });
  });

  it('searches by text deterministically and honours top_k', () => {
    const first = call('search', { collection: 'documents', text: 'workflow orchestration', top_k: 3 });
    expect(first.count).toBe(3);
    const matches = first.matches as { id: string; score: number }[];
    expect(matches.map((m) => m.id)).toContain('doc-1');
    expect(matches[0]?.score).toBeGreaterThanOrEqual(matches[1]?.score as number);
    expect(call('search', { collection: 'documents', text: 'workflow orchestration', top_k: 3 })).toEqual(first);
    const vector = Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0));
    expect(call('search', { vector, top_k: 2 }).count).toBe(2);
  });

  it('enriches a list of items', () => {
    expect(call('enrich', { input: [{ id: 'j1' }, { id: 'nope' }, 7], enrich: ['neighbors'] })).toEqual({
      items: [
        { id: 'j1', neighbors: ['c1', 'j2', 'p1', 'p2', 't1'] },
        { id: 'nope', metadata: { matched: false, source: 'sample-graph' } },
        { value: 7, metadata: { matched: false, source: 'sample-graph' } },
      ],
      enriched_with: ['neighbors'],
    });
    const fromQuery = call('enrich', { query: { cypher: 'MATCH (t:Topic) RETURN t' } });
    expect((fromQuery.items as unknown[]).length).toBe(3);
  });

  it('refuses bad requests permanently', () => {
    const refusals: [string, Record<string, unknown>][] = [
      ['drop', {}],
      ['search', { collection: 'nope', text: 'x' }],
      ['search', { text: '' }],
      ['search', { vector: [1, 2] }],
      ['search', { text: 'x', top_k: 0 }],
      ['traverse', { query: { cypher: 'DELETE n' } }],
      ['traverse', { enrich: ['magic'] }],
      ['enrich', {}],
    ];
    for (const [operation, parameters] of refusals) {
      expect(() => call(operation, parameters)).toThrow(
        expect.objectContaining({ code: 'BAD_REQUEST', retryable: false }),
      );
    }
  });
});

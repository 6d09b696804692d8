import { parseCypherPattern } from './cypher-pattern';

describe('parseCypherPattern', () => {
  it('reads the templates’ queries', () => {
    expect(parseCypherPattern('MATCH (n)-[r]->(m) RETURN n, r, m LIMIT 100')).toEqual({
      from: { variable: 'n', label: undefined },
      relationship: { variable: 'r', type: undefined, direction: 'out' },
      to: { variable: 'm', label: undefined },
      limit: 100,
    });
    expect(parseCypherPattern('MATCH (n) RETURN n LIMIT 5')).toEqual({
      from: { variable: 'n', label: undefined },
      limit: 5,
    });
  });

  it('reads labels, types, directions and anonymous parts', () => {
    expect(parseCypherPattern('match (p:Person)<-[:KNOWS]-(:Person) return p')).toEqual({
      from: { variable: 'p', label: 'Person' },
      relationship: { variable: 'r', type: 'KNOWS', direction: 'in' },
      to: { variable: 'm', label: 'Person' },
    });
    expect(parseCypherPattern('MATCH (a)--(b) RETURN a,b').relationship?.direction).toBe('both');
  });

  it('refuses what it cannot read, naming the supported form', () => {
    expect(() => parseCypherPattern('CREATE (n)')).toThrow(/understands only MATCH/);
    expect(() => parseCypherPattern('CREATE (n)')).toThrow(expect.objectContaining({ retryable: false }));
  });
});

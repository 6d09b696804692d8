import type { CypherPattern, NodePattern } from './cypher-pattern';
import type { GraphNode, GraphRelationship } from './sample-data';

/** What enrichment adds to a node. */
export interface NodeMetadata {
  degree: number;
  relationship_types: string[];
  source: 'sample-graph';
}

/** An in-memory property graph answering single-hop patterns, for the data-abstractor stand-in. */
export class SampleGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly relationships: GraphRelationship[];

  constructor(nodes: GraphNode[], relationships: GraphRelationship[]) {
    for (const node of nodes) this.nodes.set(node.id, node);
    this.relationships = relationships.filter((r) => this.nodes.has(r.start) && this.nodes.has(r.end));
  }

  node(id: string): GraphNode | undefined {
    return this.nodes.get(id);
  }

  /** Rows keyed by the pattern's variable names, in a stable order, at most `pattern.limit` of them. */
  match(pattern: CypherPattern): Record<string, unknown>[] {
    const limit = pattern.limit ?? Number.POSITIVE_INFINITY;
    const rows: Record<string, unknown>[] = [];
    if (!pattern.relationship || !pattern.to) {
      for (const node of this.nodes.values()) {
        if (rows.length >= limit) break;
        if (fits(node, pattern.from)) rows.push({ [pattern.from.variable]: node });
      }
      return rows;
    }
    const { relationship, from, to } = pattern;
    for (const rel of this.relationships) {
      if (relationship.type && rel.type !== relationship.type) continue;
      const ends: [string, string][] = [];
      if (relationship.direction !== 'in') ends.push([rel.start, rel.end]);
      if (relationship.direction !== 'out') ends.push([rel.end, rel.start]);
      for (const [a, b] of ends) {
        if (rows.length >= limit) return rows;
        const left = this.nodes.get(a) as GraphNode;
        const right = this.nodes.get(b) as GraphNode;
        if (fits(left, from) && fits(right, to)) {
          rows.push({ [from.variable]: left, [relationship.variable]: rel, [to.variable]: right });
        }
      }
    }
    return rows;
  }

  metadata(id: string): NodeMetadata {
    const touching = this.relationships.filter((r) => r.start === id || r.end === id);
    return {
      degree: touching.length,
      relationship_types: [...new Set(touching.map((r) => r.type))].sort(),
      source: 'sample-graph',
    };
  }

  neighbours(id: string): string[] {
    const ids = this.relationships.flatMap((r) => (r.start === id ? [r.end] : r.end === id ? [r.start] : []));
    return [...new Set(ids)].sort();
  }
}

function fits(node: GraphNode, pattern: NodePattern): boolean {
  return !pattern.label || node.labels.includes(pattern.label);
}

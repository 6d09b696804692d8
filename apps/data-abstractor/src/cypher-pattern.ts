import { ServiceCallError } from '@orch/messaging';

export interface NodePattern {
  variable: string;
  label?: string;
}

export interface RelationshipPattern {
  variable: string;
  type?: string;
  /** `out` for `-[]->`, `in` for `<-[]-`, `both` for `-[]-`. */
  direction: 'out' | 'in' | 'both';
}

/** The part of a Cypher query the stand-in understands: one node, or one node-relationship-node pattern, and LIMIT. */
export interface CypherPattern {
  from: NodePattern;
  relationship?: RelationshipPattern;
  to?: NodePattern;
  limit?: number;
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const NODE = String.raw`\(\s*(${NAME})?\s*(?::\s*(${NAME}))?\s*\)`;
const REL = String.raw`(<)?-\s*(?:\[\s*(${NAME})?\s*(?::\s*(${NAME}))?\s*\])?\s*-(>)?`;
const MATCH = new RegExp(String.raw`^\s*MATCH\s+${NODE}(?:\s*${REL}\s*${NODE})?`, 'i');
const LIMIT = /\bLIMIT\s+(\d+)\b/i;

export const SUPPORTED_CYPHER = 'MATCH (a[:Label])[-[r[:TYPE]]->(b[:Label])] RETURN ... [LIMIT n]';

/**
 * Reads `MATCH (n:Label)-[r:TYPE]->(m:Label) ... LIMIT n` with any of the names, labels, type and arrow left out.
 * What follows the first hop (WHERE, a longer path, RETURN's projections) is ignored, except LIMIT. Anything
 * else, property maps in a pattern included, is a BAD_REQUEST naming the supported form.
 */
export function parseCypherPattern(cypher: string): CypherPattern {
  const match = MATCH.exec(cypher);
  if (!match) {
    throw new ServiceCallError(
      'BAD_REQUEST',
      `the data-abstractor stand-in understands only ${SUPPORTED_CYPHER}; got ${JSON.stringify(cypher)}`,
      { retryable: false },
    );
  }
  const [, fromVar, fromLabel, arrowIn, relVar, relType, arrowOut, toVar, toLabel] = match;
  const pattern: CypherPattern = { from: { variable: fromVar ?? 'n', label: fromLabel } };
  if (match[0].includes('-')) {
    pattern.relationship = {
      variable: relVar ?? 'r',
      type: relType,
      direction: arrowOut && !arrowIn ? 'out' : arrowIn && !arrowOut ? 'in' : 'both',
    };
    pattern.to = { variable: toVar ?? 'm', label: toLabel };
  }
  const limit = LIMIT.exec(cypher);
  if (limit) pattern.limit = Number(limit[1]);
  return pattern;
}

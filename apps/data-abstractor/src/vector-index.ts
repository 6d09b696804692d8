import { ServiceCallError } from '@orch/messaging';
import { cosineSimilarity, EMBEDDING_DIMENSIONS, hashingEmbedding } from './hashing-embedding';
import type { SampleDocument } from './sample-data';

export interface SearchMatch {
  id: string;
  score: number;
  text: string;
  metadata: Record<string, unknown>;
}

/**
 * Brute-force cosine search over small collections. Documents are embedded at start with the same hashing
 * embedding used for `text` queries, so a query sharing words with a document ranks it higher.
 */
export class VectorIndex {
  private readonly collections = new Map<string, { doc: SampleDocument; vector: number[] }[]>();

  constructor(collections: Record<string, SampleDocument[]>) {
    for (const [name, docs] of Object.entries(collections)) {
      this.collections.set(
        name,
        docs.map((doc) => ({ doc, vector: hashingEmbedding(doc.text) })),
      );
    }
  }

  get dimensions(): number {
    return EMBEDDING_DIMENSIONS;
  }

  search(collection: string, query: { text?: string; vector?: number[] }, topK: number): SearchMatch[] {
    const entries = this.collections.get(collection);
    if (!entries) {
      throw new ServiceCallError(
        'BAD_REQUEST',
        `unknown collection '${collection}'; the stand-in has ${[...this.collections.keys()].join(', ')}`,
        { retryable: false },
      );
    }
    let vector: number[];
    if (query.vector) {
      if (query.vector.length !== EMBEDDING_DIMENSIONS || !query.vector.every(Number.isFinite)) {
        throw new ServiceCallError('BAD_REQUEST', `vector must be ${EMBEDDING_DIMENSIONS} finite numbers`, {
          retryable: false,
        });
      }
      vector = query.vector;
    } else if (typeof query.text === 'string' && query.text.trim()) {
      vector = hashingEmbedding(query.text);
    } else {
      throw new ServiceCallError('BAD_REQUEST', 'search needs text or vector', { retryable: false });
    }
    return entries
      .map(({ doc, vector: v }) => ({
        id: doc.id,
        score: Math.round(cosineSimilarity(vector, v) * 10_000) / 10_000,
        text: doc.text,
        metadata: doc.metadata,
      }))
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
      .slice(0, topK);
  }
}

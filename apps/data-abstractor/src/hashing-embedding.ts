import { createHash } from 'node:crypto';

export const EMBEDDING_DIMENSIONS = 32;

/**
 * A deterministic bag-of-words embedding: each lower-cased word adds ±1 to one of `dimensions` slots chosen by its
 * hash, then the vector is normalised. Texts sharing words point the same way, which is all the stand-in needs.
 */
export function hashingEmbedding(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const digest = createHash('sha256').update(word).digest();
    const slot = digest.readUInt32BE(0) % dimensions;
    vector[slot] = (vector[slot] as number) + ((digest[4] as number) & 1 ? 1 : -1);
  }
  return normalise(vector);
}

export function normalise(vector: number[]): number[] {
  const length = Math.hypot(...vector);
  return length === 0 ? vector : vector.map((v) => v / length);
}

/** Cosine similarity of two vectors of the same length. */
export function cosineSimilarity(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

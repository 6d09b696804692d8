import type { ExecutionSummary } from '@orch/run-model';
import { type IndexedRun, type ListOptions, listLimit, type RunIndex, splitCursor } from './run-index';

/**
 * Runs of every partition, newest first, a page at a time: each partition's index answers a page from the same
 * cursor (a creation time and id) and the pages merge in index order (time, then id, descending), so one cursor
 * pages through all partitions with no run twice and none skipped. A single partition is its own page.
 */
export async function listRuns(
  indexes: readonly RunIndex[],
  options: ListOptions,
): Promise<{ items: ExecutionSummary[]; next_cursor?: string }> {
  if (indexes.length === 1) return (indexes[0] as RunIndex).list(options);
  const limit = listLimit(options.limit);
  const pages = await Promise.all(indexes.map((index) => index.page({ ...options, limit })));
  const merged = pages.flatMap((page) => page.items).sort(newestFirst);
  const items = merged.slice(0, limit);
  const more = merged.length > limit || pages.some((page) => page.next_cursor !== undefined);
  const last = items[items.length - 1];
  return {
    items: items.map((item) => item.summary),
    ...(more && last ? { next_cursor: last.cursor } : {}),
  };
}

/** Index order: later creation first, then the greater id (ZREVRANGEBYSCORE's order within one score). */
function newestFirst(a: IndexedRun, b: IndexedRun): number {
  const [scoreA, idA] = splitCursor(a.cursor);
  const [scoreB, idB] = splitCursor(b.cursor);
  if (scoreA !== scoreB) return Number(scoreB) - Number(scoreA);
  return idA < idB ? 1 : idA > idB ? -1 : 0;
}

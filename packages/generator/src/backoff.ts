import type { UpstreamRetryPolicy } from './generation-types';

export const DEFAULT_RETRY_POLICY: UpstreamRetryPolicy = { maxRetries: 4, initialDelayMs: 200, maxDelayMs: 10_000 };

/**
 * The wait before retry number `retry` (0 for the first): what the server asked for (`retry-after-ms`, or
 * `retry-after` in seconds or as an HTTP date), else exponential from `initialDelayMs`; never above `maxDelayMs`.
 */
export function retryDelayMs(
  retry: number,
  headers: Headers | undefined,
  policy: UpstreamRetryPolicy,
  now = Date.now(),
): number {
  const asked = requestedDelayMs(headers, now);
  const delay = asked ?? policy.initialDelayMs * 2 ** retry;
  return Math.min(Math.max(0, delay), policy.maxDelayMs);
}

function requestedDelayMs(headers: Headers | undefined, now: number): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const after = headers?.get('retry-after')?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : date - now;
}

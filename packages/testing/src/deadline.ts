/** Resolves with the promise's value, or rejects naming what was awaited once `ms` pass. For awaiting events in tests. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Resolves once `check` returns true, asking every `everyMs`; rejects naming `what` once `ms` pass. For states no
 * event announces (a heartbeat that stopped coming).
 */
export async function waitUntil(check: () => Promise<boolean>, ms: number, what: string, everyMs = 25): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

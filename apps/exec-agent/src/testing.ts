import { readdirSync, readFileSync } from 'node:fs';
import { withDeadline } from '@orch/testing';

/** The service as a library, for other packages' tests that run it in process, and probes of the processes it runs. */
export * from './exec-agent';

/** Alive means present and not a zombie (a killed process waits for its parent, maybe init, to reap it). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

/** Host pids of live processes whose argv is exactly `argv` (give it a unique marker, e.g. `sleep 300.4711`). */
export function findProcesses(argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8') === wanted && isAlive(Number(name))) found.push(Number(name));
    } catch {
      // it ended while we looked
    }
  }
  return found;
}

/**
 * Resolves once `condition()` holds, checking every 20 ms, or rejects after `ms`: for process states, which send no
 * event (a killed process may stay a zombie for a moment until its parent reaps it).
 */
export function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    const check = () => {
      if (condition()) resolve();
      else timer = setTimeout(check, 20);
    };
    check();
  });
  return withDeadline(done, ms, what).finally(() => clearTimeout(timer));
}

/** Waits until none of `pids` is alive. */
export function waitUntilGone(pids: number[], ms = 5000): Promise<void> {
  return waitFor(() => pids.every((pid) => !isAlive(pid)), ms, `processes ${pids.join(', ')} to be gone`);
}

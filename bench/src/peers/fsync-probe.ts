import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { percentiles } from '../stats';

/**
 * How long a 4 KiB write + fdatasync takes on the disk that holds the peers' data directories (the temp dir): what
 * PostgreSQL's commit and Restate's log append wait for, and the orchestrator's Redis (no AOF) does not. A disk
 * shared with other people's builds makes it slow and jumpy, so the output records it.
 */
export function fsyncProbe(samples = 50): { p50Ms: number; p99Ms: number; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'orch-peers-fsync-'));
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    const fd = openSync(join(dir, 'probe'), 'w');
    try {
      for (let i = 0; i < samples; i++) {
        const start = performance.now();
        writeSync(fd, block, 0, block.length, 0);
        fdatasyncSync(fd);
        times.push(performance.now() - start);
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const [p50 = Number.NaN, p99 = Number.NaN] = percentiles(times, [50, 99]);
  return { p50Ms: Math.round(p50 * 100) / 100, p99Ms: Math.round(p99 * 100) / 100, dir: tmpdir() };
}

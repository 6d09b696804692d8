#!/usr/bin/env node
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@orch/config';
import { runLocal } from './local-runner';
import { RequestWorkspace } from './request-workspace';
import type { RunOutcome, RunSpec } from './run-outcome';
import { prepareWorkspace, Sandbox } from './sandbox';

/**
 * What the sandbox costs per exec task: `runs` times a trivial command (`true`) with everything the agent does per
 * request (request directory, its permissions, the run, removal), sandboxed and as a plain process, interleaved so
 * both see the same machine load. Prints one JSON line; `pnpm bench --only sandbox` shows it.
 *
 *   node apps/exec-agent/dist/sandbox-cost.js [runs]
 */
async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 100);
  const settings = loadConfig({}).exec;
  const sandbox = await Sandbox.detect({ limits: settings, uid: settings.uid });
  const root = mkdtempSync(join(tmpdir(), 'sandbox-cost-'));
  chmodSync(root, 0o711); // as the exec-agent makes its workspace
  const once = async (runner: (spec: RunSpec) => Promise<RunOutcome>, sandboxed: boolean): Promise<number> => {
    const started = process.hrtime.bigint();
    const workspace = await RequestWorkspace.create(root, [{ name: 'job.sh', content: 'true' }]);
    if (sandboxed) await prepareWorkspace(workspace.dir, settings.uid);
    const outcome = await runner({
      argv: ['true'],
      dir: workspace.dir,
      env: {},
      image: 'unused',
      timeoutMs: 10_000,
      maxOutputBytes: 1024,
      signal: new AbortController().signal,
    });
    await workspace.remove();
    if (outcome.exitCode !== 0) throw new Error(`true exited ${outcome.exitCode}: ${outcome.stderr}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const sandboxMs: number[] = [];
  const localMs: number[] = [];
  try {
    for (let i = 0; i < 5; i++) await Promise.all([once((s) => sandbox.run(s), true), once(runLocal, false)]);
    for (let i = 0; i < runs; i++) {
      sandboxMs.push(await once((s) => sandbox.run(s), true));
      localMs.push(await once(runLocal, false));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const sandboxed = summary(sandboxMs);
  const unsandboxed = summary(localMs);
  process.stdout.write(
    `${JSON.stringify({ runs, sandboxed, unsandboxed, cost_ms: round(sandboxed.median - unsandboxed.median) })}\n`,
  );
}

function summary(values: number[]): { median: number; p90: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { median: round(at(0.5)), p90: round(at(0.9)), min: round(sorted[0] as number), max: round(at(1)) };
}

const round = (v: number) => Math.round(v * 100) / 100;

main().catch((error: unknown) => {
  process.stderr.write(`sandbox-cost: ${(error as Error).message}\n`);
  process.exit(1);
});

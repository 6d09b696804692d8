import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchCase, BenchContext, CaseResult } from './bench-case';
import { fmt, skippedRow, summaryJson } from './bench-case';
import { ROOT } from './processes';
import { summarize } from './stats';

const SCRIPT = join(ROOT, 'apps', 'exec-agent', 'dist', 'sandbox-cost.js');
const RUNS = 100;

interface CostReport {
  runs: number;
  sandboxed: { median: number };
  unsandboxed: { median: number };
  cost_ms: number;
}

/**
 * The exec sandbox's cost per task: apps/exec-agent's sandbox-cost script runs a trivial command 100 times through
 * bubblewrap and 100 times as a plain process (everything the agent does per request included) and reports medians.
 */
export const sandboxCase: BenchCase = {
  key: 'sandbox',
  title: 'exec sandbox cost',
  async run(ctx: BenchContext): Promise<CaseResult> {
    const name = `exec task, trivial command (median of ${RUNS})`;
    if (!existsSync(SCRIPT)) return { rows: [skippedRow(name, 'exec-agent not built')], data: {} };
    const reports: CostReport[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, String(RUNS)], { cwd: ROOT });
        reports.push(JSON.parse(stdout) as CostReport);
      } catch (error) {
        return {
          rows: [skippedRow(name, `no sandbox here: ${(error as { stderr?: string }).stderr?.trim()}`)],
          data: {},
        };
      }
      ctx.log(`sandbox rep ${rep + 1}: ${reports.at(-1)?.cost_ms} ms per task`);
    }
    const sandboxed = summarize(reports.map((r) => r.sandboxed.median));
    const plain = summarize(reports.map((r) => r.unsandboxed.median));
    const cost = summarize(reports.map((r) => r.cost_ms));
    return {
      rows: [
        {
          case: `${name}: sandboxed vs unsandboxed`,
          orchestrator: fmt(sandboxed, 'ms', 2),
          raw: fmt(plain, 'ms', 2),
          ratio: `+${fmt(cost, 'ms', 2)}`,
          target: '',
        },
      ],
      data: { sandboxed: summaryJson(sandboxed), unsandboxed: summaryJson(plain), cost: summaryJson(cost), reports },
    };
  },
};

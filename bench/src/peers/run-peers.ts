/**
 * `pnpm bench:peers`: the orchestrator, Restate and DBOS side by side on this machine, each on servers of its own
 * (a private redis-server; a private restate-server; a private PostgreSQL), the same workloads interleaved per
 * repetition. Prints one table with ratios against the best peer and writes bench/results/peers-latest.json.
 *
 *   node bench/dist/peers/run-peers.js [--quick] [--reps 3] [--only a,b,c,d] [--systems orchestrator,restate,dbos] [--no-inline]
 *     [--high-water n | --no-backpressure]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { killAll, workerEnvOverrides } from '../processes';
import { startDbos } from './dbos';
import { fsyncProbe } from './fsync-probe';
import { cpuSnapshot, windowLoad } from './load';
import { startOrchestrator } from './orchestrator';
import { killEverythingNow, stopEverything } from './owned-process';
import { ensurePeersInstalled } from './peers-install';
import { buildRows, type Measurement, renderLoad, renderPeersTable, type TableRow } from './peers-report';
import { startRestate } from './restate';
import type { RunningSystem, SystemName } from './system';
import { runWorkload } from './workload-runner';
import { FULL, QUICK, type Sizes, type WorkloadKey } from './workloads';

interface Args {
  quick: boolean;
  reps: number;
  only: WorkloadKey[];
  systems: SystemName[];
  concurrency: number;
  /**
   * The API's ORCHESTRATOR_BACKLOG_HIGH_WATER (`--high-water n`; unset: its default); `--no-backpressure` is 0: the
   * API accepts everything, as before #18's item 2.
   */
  highWater?: number;
}

const WORKLOADS: WorkloadKey[] = ['a', 'b', 'c', 'd'];
const SYSTEMS: SystemName[] = ['orchestrator', 'restate', 'dbos'];

export function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, reps: 0, only: WORKLOADS, systems: SYSTEMS, concurrency: 50 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const list = <T extends string>(allowed: T[]) => {
      const items = value().split(',') as T[];
      const bad = items.filter((x) => !allowed.includes(x));
      if (bad.length > 0) throw new Error(`${flag}: unknown ${bad.join(', ')} (choose from ${allowed.join(', ')})`);
      return items;
    };
    if (flag === '--quick') args.quick = true;
    else if (flag === '--reps') args.reps = Math.max(1, Math.floor(Number(value())) || 1);
    else if (flag === '--only') args.only = list(WORKLOADS);
    else if (flag === '--systems') args.systems = list(SYSTEMS);
    else if (flag === '--no-backpressure') args.highWater = 0;
    else if (flag === '--no-inline') workerEnvOverrides.WORKER_INLINE_CONTINUATION = 'false';
    else if (flag === '--high-water') args.highWater = Math.max(0, Math.floor(Number(value())) || 0);
    else if (flag === '--concurrency') args.concurrency = Math.max(1, Number(value()));
    else throw new Error(`unknown argument ${flag}`);
  }
  if (args.reps === 0) args.reps = args.quick ? 1 : 3;
  return args;
}

function git(argv: string[]): string {
  try {
    return execFileSync('git', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function durabilityLines(described: Record<string, Record<string, unknown>>): string {
  const lines = ['Durability as measured (each system as it runs by default):'];
  for (const [name, d] of Object.entries(described)) {
    const settings = Object.entries((d.durability as Record<string, unknown>) ?? {})
      .filter(([k]) => !/server_version|data_directory|max_connections|shared_buffers/.test(k))
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
    lines.push(`  ${name.padEnd(12)} ${settings}${d.notes ? ` (${String(d.notes)})` : ''}`);
  }
  return lines.join('\n');
}

/**
 * Every workload on every system, interleaved: within a repetition each workload runs on all of them before the next
 * one starts, in an order rotated every repetition so no system always runs first (or right after another's backlog).
 */
async function measureAll(systems: RunningSystem[], args: Args, sizes: Sizes, log: (m: string) => void) {
  const measurements: Measurement[] = [];
  const allPids = () => Object.fromEntries(systems.map((s) => [s.name, s.pids()]));
  const durations: Record<string, number> = {};
  for (let rep = 0; rep < args.reps; rep++) {
    for (const workload of args.only) {
      const t0 = Date.now();
      const targets =
        workload === 'd'
          ? systems.map((s) => s.variants[0])
          : systems.flatMap((s) => s.variants).filter((v) => !v.workloads || v.workloads.includes(workload));
      const order = targets.map((_, i) => targets[(i + rep) % targets.length]).filter((v) => v !== undefined);
      for (const variant of order) {
        const system = systems.find((s) => s.name === variant.system) as RunningSystem;
        const before = cpuSnapshot(allPids());
        const result = await runWorkload(workload, variant, system, sizes);
        const load = windowLoad(before, cpuSnapshot(allPids()));
        measurements.push({ rep: rep + 1, workload, variant: variant.key, system: variant.system, result, load });
        log(`rep ${rep + 1} (${workload}) ${variant.label}: ${JSON.stringify(result)}`);
      }
      durations[workload] = (durations[workload] ?? 0) + (Date.now() - t0) / 1000;
    }
  }
  return { measurements, durations };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? QUICK : FULL;
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${m}\n`);
  const loadAtStart = loadavg();
  const fsync = fsyncProbe();
  if (args.systems.some((s) => s !== 'orchestrator')) await ensurePeersInstalled(log);
  const systems: RunningSystem[] = [];
  try {
    const starters: Record<SystemName, () => Promise<RunningSystem>> = {
      orchestrator: () => startOrchestrator(log, { concurrency: args.concurrency, highWater: args.highWater }),
      restate: () => startRestate(log),
      dbos: () => startDbos(log),
    };
    for (const name of args.systems) systems.push(await starters[name]());
    const described: Record<string, Record<string, unknown>> = {};
    for (const s of systems) described[s.name] = await s.describe();

    const { measurements, durations } = await measureAll(systems, args, sizes, log);
    const rows: TableRow[] = buildRows(measurements);
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stdout.write(
      `\n${renderPeersTable(rows)}\n\n${durabilityLines(described)}\n\n${renderLoad(measurements)}\n` +
        `fdatasync of 4 KiB in ${fsync.dir}: p50 ${fsync.p50Ms} ms, p99 ${fsync.p99Ms} ms (the peers' commits wait for it)\n` +
        `load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; ${seconds} s in all` +
        ` (${Object.entries(durations)
          .map(([k, v]) => `(${k}) ${Math.round(v)} s`)
          .join(', ')})\n`,
    );
    const out = join(__dirname, '..', '..', 'results');
    mkdirSync(out, { recursive: true });
    const report = {
      finished_at: new Date().toISOString(),
      duration_s: seconds,
      workload_durations_s: durations,
      settings: { ...args, sizes },
      environment: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        load_average_at_start: loadAtStart,
        fdatasync_4k: fsync,
        git_commit: git(['rev-parse', 'HEAD']),
        git_dirty: git(['status', '--porcelain']).length > 0,
        systems: described,
      },
      table: rows,
      measurements,
    };
    writeFileSync(join(out, 'peers-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    log('wrote bench/results/peers-latest.json');
  } finally {
    await Promise.allSettled(systems.map((s) => s.stop()));
    await stopEverything();
  }
}

function emergencyStop(): void {
  killAll();
  killEverythingNow();
}

if (require.main === module) {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`\n${signal}: stopping every process the bench started\n`);
      const hard = setTimeout(() => {
        emergencyStop();
        process.exit(130);
      }, 8000);
      stopEverything()
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(hard);
          emergencyStop();
          process.exit(130);
        });
    });
  }
  process.on('exit', emergencyStop);
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `bench:peers failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      emergencyStop();
      process.exit(1);
    },
  );
}

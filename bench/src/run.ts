/**
 * `pnpm bench`: starts a private redis-server, runs every case against real worker processes (and the API when it
 * is built), prints one table and writes bench/results/latest.json.
 *
 *   node bench/dist/run.js [--only throughput,release,...] [--reps 3] [--concurrency 50] [--profile] [--no-inline]
 *   node bench/dist/run.js --cluster [--reps 3] [--small] [--replicas]   (standalone vs 1 and 3 cluster primaries)
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase, BenchContext, CaseResult, Row } from './bench-case';
import { startBenchRedis } from './bench-redis';
import { killServers } from './bench-topology';
import { costCase } from './case-cost';
import { e2eLatencyCase } from './case-e2e-latency';
import { httpStartsCase } from './case-http-starts';
import { releaseLatencyCase } from './case-release-latency';
import { sandboxCase } from './case-sandbox';
import { scaleCase } from './case-scale';
import { throughputCase } from './case-throughput';
import { tracingCase } from './case-tracing';
import { runClusterBench } from './cluster-bench';
import { environment } from './environment';
import { type LoadReport, loadMeter } from './machine-load';
import { killAll, workerEnvOverrides } from './processes';
import { profileFiles, renderProfile, summarizeProfile } from './profile-summary';
import { renderTable } from './report';

const CASES: BenchCase[] = [
  throughputCase,
  releaseLatencyCase,
  e2eLatencyCase,
  httpStartsCase,
  scaleCase,
  costCase,
  sandboxCase,
  tracingCase,
];

interface Args {
  only?: Set<string>;
  reps: number;
  concurrency: number;
  profile: boolean;
  cluster: boolean;
  small: boolean;
  replicas: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { reps: 3, concurrency: 50, profile: false, cluster: false, small: false, replicas: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--only') args.only = new Set(value().split(','));
    else if (flag === '--reps') args.reps = Math.max(1, Number(value()));
    else if (flag === '--concurrency') args.concurrency = Math.max(1, Number(value()));
    else if (flag === '--profile') args.profile = true;
    else if (flag === '--cluster') args.cluster = true;
    else if (flag === '--small') args.small = true;
    else if (flag === '--replicas') args.replicas = true;
    else if (flag === '--no-inline') workerEnvOverrides.WORKER_INLINE_CONTINUATION = 'false';
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (message: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  if (args.cluster) return runClusterBench(args, log);
  const redis = await startBenchRedis();
  redisPid = Number((await redis.info('server')).process_id);
  const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'orch-bench-prof-')) : undefined;
  const ctx: BenchContext = {
    redis,
    reps: args.reps,
    concurrency: args.concurrency,
    profileDir,
    profileArgs: (label) =>
      profileDir ? `--cpu-prof --cpu-prof-dir=${profileDir} --cpu-prof-name=${label}.cpuprofile` : undefined,
    log,
  };
  const results: Record<string, CaseResult | { error: string }> = {};
  const rows: Row[] = [];
  const load: Record<string, LoadReport> = {};
  try {
    for (const benchCase of CASES) {
      if (args.only && !args.only.has(benchCase.key)) continue;
      log(`case ${benchCase.key}: ${benchCase.title}`);
      // Each case starts from an empty Redis, with no worker of an earlier case left running.
      await redis.admin.flushall();
      const meter = await loadMeter(redis);
      try {
        const result = await benchCase.run(ctx);
        load[benchCase.key] = meter.stop();
        results[benchCase.key] = { ...result, data: { ...result.data, machineLoad: load[benchCase.key] } };
        rows.push(...result.rows);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        log(`case ${benchCase.key} failed: ${message}`);
        results[benchCase.key] = { error: message };
        rows.push({
          case: benchCase.title,
          orchestrator: `error: ${firstLine(message)}`,
          raw: '',
          ratio: '',
          target: '',
          ok: false,
        });
      }
    }
    const env = await environment(redis);
    const table = renderTable(rows);
    process.stdout.write(`\n${table}\n\n${loadNote(load)}\n`);
    const out = join(__dirname, '..', 'results');
    mkdirSync(out, { recursive: true });
    const report = {
      finished_at: new Date().toISOString(),
      duration_s: Math.round((Date.now() - started) / 1000),
      settings: { reps: args.reps, concurrency: args.concurrency, only: args.only ? [...args.only] : undefined },
      environment: env,
      table: rows,
      machine_load: load,
      cases: results,
      ...(profileDir ? { profiles: profileDir } : {}),
    };
    writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (profileDir) {
      const files = profileFiles([profileDir]);
      process.stdout.write(`\n${files.map((f) => renderProfile(summarizeProfile(f))).join('\n\n')}\n`);
    }
    log(`wrote bench/results/latest.json${profileDir ? `; CPU profiles in ${profileDir}` : ''}`);
    // A missed target is a result; a case that could not run is a failure of the bench.
    if (Object.values(results).some((r) => 'error' in r)) process.exitCode = 1;
  } finally {
    killAll();
    await redis.close();
  }
}

/** One line per case: how much CPU other processes took while it ran, since that skews every figure. */
function loadNote(load: Record<string, LoadReport>): string {
  const lines = Object.entries(load).map(([key, l]) => {
    const busy = l.foreignCores + l.stealCores >= 0.25 ? '  <-- machine was busy: figures are pessimistic' : '';
    return `  ${key.padEnd(10)} ${l.seconds.toFixed(0).padStart(4)} s, bench ${l.ownCores.toFixed(2)} cores, other processes ${l.foreignCores.toFixed(2)}, steal ${l.stealCores.toFixed(2)}${busy}`;
  });
  return ['CPU use per case (2 cores = 2.00):', ...lines].join('\n');
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** The private redis-server, so an interrupted bench does not leave it running. */
let redisPid: number | undefined;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    killServers();
    if (redisPid) {
      try {
        process.kill(redisPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    killAll();
    process.exit(1);
  },
);

/**
 * `pnpm bench:lock-stall`: what BullMQ's job lock and stall check cost at each setting, and what they buy.
 *
 *   node bench/dist/lock-stall.js [--window 10] [--active 20] [--load 15] [--only 30000/15000,4000/2000]
 *
 * Per setting (WORKER_LOCK_DURATION / WORKER_STALLED_INTERVAL), against one real worker process:
 * - Redis commands and worker CPU per second, idle and while it runs `--active` long jobs (ai tasks held open by a
 *   chat endpoint here: jobs that hold a lock and use no CPU);
 * - false stalls: BullMQ `stalled` events while the machine is saturated (two busy-loop processes per core) for
 *   `--load` seconds, the long jobs still running;
 * - recovery: a second worker starts, the first is killed with SIGKILL, and the time until each of its jobs is back
 *   in the queue (the `stalled` event; the second worker re-runs it at once) is measured.
 * Prints a table and writes bench/results/lock-stall.json. Figures depend on the machine's load: it is reported.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import { type BenchRedis, startBenchRedis } from './bench-redis';
import { processCpuSeconds } from './cpu';
import { type HeldChat, startHeldChat } from './held-chat';
import { type LoadReport, loadMeter } from './machine-load';
import { type BenchChild, killAll, PREFIX, ROOT, sleep, startOrchWorkers, withTimeout } from './processes';
import { Submitter } from './submitter';

const SETTINGS: [number, number][] = [
  [30_000, 15_000],
  [10_000, 5_000],
  [5_000, 2_500],
  [4_000, 2_000],
  [2_000, 1_000],
  [1_000, 500],
];

interface Args {
  windowS: number;
  active: number;
  loadS: number;
  only?: Set<string>;
}

interface Cost {
  commandsPerS: number;
  workerCores: number;
}

interface SettingResult {
  lockMs: number;
  stalledMs: number;
  idle: Cost;
  active: Cost;
  falseStalls: number;
  /** From the kill to the first and the last of the killed worker's jobs back in the queue. */
  recoveryFirstMs: number;
  recoveryLastMs: number;
  load: LoadReport;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { windowS: 10, active: 20, loadS: 15 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i] ?? '';
    if (flag === '--window') args.windowS = Number(value());
    else if (flag === '--active') args.active = Number(value());
    else if (flag === '--load') args.loadS = Number(value());
    else if (flag === '--only') args.only = new Set(value().split(','));
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

/** Redis commands (those inside scripts included) and the worker's CPU, per second, over `seconds`. */
async function costOver(redis: BenchRedis, worker: BenchChild, seconds: number): Promise<Cost> {
  const total = async () => [...(await redis.commandCalls()).values()].reduce((a, b) => a + b, 0);
  const [calls, cpu, start] = [await total(), processCpuSeconds(worker.pid), Date.now()];
  await sleep(seconds * 1000);
  const elapsed = (Date.now() - start) / 1000;
  // The two INFO calls of this measurement are not the worker's.
  const commandsPerS = ((await total()) - calls - 2) / elapsed;
  return { commandsPerS, workerCores: (processCpuSeconds(worker.pid) - cpu) / elapsed };
}

/** Busy loops on every core (two per core), for `seconds`; each is a process this bench started and ends. */
function saturate(seconds: number): ChildProcess[] {
  const code = `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end) {}`;
  return Array.from({ length: cpus().length * 2 }, () =>
    spawn(process.execPath, ['-e', code], { stdio: 'ignore', cwd: ROOT }),
  );
}

async function measure(
  redis: BenchRedis,
  chat: HeldChat,
  submitter: Submitter,
  stalls: { count: number; at: number[] },
  [lockMs, stalledMs]: [number, number],
  args: Args,
  log: (m: string) => void,
): Promise<SettingResult> {
  const meter = await loadMeter(redis);
  const env = {
    WORKER_LOCK_DURATION: `${lockMs}ms`,
    WORKER_STALLED_INTERVAL: `${stalledMs}ms`,
    OPENAI_BASE_URL: chat.baseUrl,
    OPENAI_API_KEY: 'bench',
    OPENAI_TIMEOUT: '10m',
  };
  chat.hold();
  const options = { concurrency: args.active + 10, env };
  const [a] = await startOrchWorkers(redis.settings, redis.admin, 1, { ...options, namePrefix: `a${lockMs}` });
  if (!a) throw new Error('no worker');
  await sleep(1000);
  const idle = await costOver(redis, a, args.windowS);
  const workflow = { id: 'held', tasks: [{ id: 'ask', type: 'ai', parameters: { prompt: 'hold' } }] };
  const before = chat.received();
  const ids = await Promise.all(Array.from({ length: args.active }, () => submitter.submit(workflow)));
  await withTimeout(chat.waitFor(before + args.active), 30_000, 'the held jobs to start');
  const active = await costOver(redis, a, args.windowS);
  log(`  ${lockMs}/${stalledMs}: idle ${idle.commandsPerS.toFixed(1)} cmd/s, active ${active.commandsPerS.toFixed(1)}`);

  const stallsBefore = stalls.count;
  const hogs = saturate(args.loadS);
  await Promise.all(hogs.map((h) => new Promise((resolve) => h.once('exit', resolve))));
  const falseStalls = stalls.count - stallsBefore;

  const [b] = await startOrchWorkers(redis.settings, redis.admin, 1, { ...options, namePrefix: `b${lockMs}` });
  const first = stalls.count;
  const killedAt = Date.now();
  a.proc.kill('SIGKILL');
  await withTimeout(
    (async () => {
      while (stalls.count - first < args.active) await sleep(20);
    })(),
    lockMs + 4 * stalledMs + 30_000,
    'the killed worker’s jobs to be found stalled',
  );
  const found = stalls.at.slice(first, first + args.active);
  chat.release();
  await Promise.all(ids.map((id) => withTimeout(submitter.finished(id), 60_000, `run ${id} to end`)));
  await b?.stop();
  await a.stop();
  return {
    lockMs,
    stalledMs,
    idle,
    active,
    falseStalls,
    recoveryFirstMs: Math.min(...found) - killedAt,
    recoveryLastMs: Math.max(...found) - killedAt,
    load: meter.stop(),
  };
}

function table(results: SettingResult[], args: Args): string {
  const head = [
    'lock / stall check',
    'idle cmd/s',
    `cmd/s, ${args.active} jobs`,
    'worker CPU, jobs',
    `false stalls (${args.loadS}s saturated)`,
    'recovery after kill -9',
    'machine (own/foreign cores)',
  ];
  const rows = results.map((r) => [
    `${r.lockMs / 1000}s / ${r.stalledMs / 1000}s`,
    r.idle.commandsPerS.toFixed(1),
    r.active.commandsPerS.toFixed(1),
    `${(r.active.workerCores * 100).toFixed(1)}%`,
    String(r.falseStalls),
    `${(r.recoveryFirstMs / 1000).toFixed(1)}-${(r.recoveryLastMs / 1000).toFixed(1)}s`,
    `${r.load.ownCores}/${r.load.foreignCores}`,
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${m}\n`);
  const redis = await startBenchRedis();
  const chat = await startHeldChat();
  const submitter = await Submitter.create(redis);
  const events = new QueueEvents('tasks', { connection: redis.connect('bench-queue-events'), prefix: PREFIX });
  await events.waitUntilReady();
  const stalls = { count: 0, at: [] as number[] };
  events.on('stalled', () => {
    stalls.count++;
    stalls.at.push(Date.now());
  });
  const results: SettingResult[] = [];
  try {
    for (const setting of SETTINGS) {
      if (args.only && !args.only.has(setting.join('/'))) continue;
      log(`measuring lock ${setting[0]} ms, stall check ${setting[1]} ms`);
      results.push(await measure(redis, chat, submitter, stalls, setting, args, log));
    }
  } finally {
    await events.close();
    await submitter.close();
    await chat.close();
    await redis.close();
    killAll();
  }
  const out = table(results, args);
  process.stdout.write(`${out}\n`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'lock-stall.json'), JSON.stringify({ args, cpus: cpus().length, results }, null, 2));
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  killAll();
  process.exit(1);
});

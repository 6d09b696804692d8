import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { byId, type Harness, startHarness } from '@orch/engine/testing';
import { waitUntil, withDeadline } from '@orch/testing';

// Builds the publishable package, packs it and installs the tarball from the npm registry into a project of its
// own, as a user would: minutes at worst on a slow registry.
jest.setTimeout(300_000);

const SDK = join(__dirname, '..');
const ROOT = join(SDK, '../..');
const run = promisify(execFile);
let temp: string;
let tarball: string;
let project: string;
const timings: Record<string, number> = {};

/** Runs a command; a failure throws with its whole output, so the test's message says what went wrong. */
async function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await step();
  } finally {
    timings[what] = Date.now() - start;
  }
}

/** npm as a user runs it: none of the npm_* settings pnpm or jest's parent put in the environment. */
const npmEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

const tsc = (args: string[]) =>
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), ...args], { cwd: project }).then(
    () => ({ code: 0, output: '' }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      output: error.stdout + error.stderr,
    }),
  );

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'orch-sdk-package-'));
  await timed('build', () => sh(process.execPath, ['build-package.mjs'], SDK));
  const packed = await timed('pack', () =>
    sh('npm', ['pack', join(SDK, 'package'), '--pack-destination', temp, '--json'], temp, npmEnv()),
  );
  tarball = join(temp, (JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string }[])[0]!.filename);
  project = join(temp, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-tasks', version: '1.0.0', private: true }));
  const typesNode = JSON.parse(readFileSync(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')).version;
  await timed('npm install', () =>
    sh(
      'npm',
      ['install', '--no-audit', '--no-fund', '--cache', join(temp, 'npm-cache'), tarball, `@types/node@${typesNode}`],
      project,
      npmEnv(),
    ),
  );
});
afterAll(() => {
  console.log(`package test steps (ms): ${JSON.stringify(timings)}`);
  if (temp) rmSync(temp, { recursive: true, force: true });
});

describe('the publishable @orchestrator/worker', () => {
  it('ships no reference to the private @orch/ packages and pins its dependencies to exact versions', async () => {
    const unpacked = join(temp, 'unpacked');
    mkdirSync(unpacked);
    await sh('tar', ['-xzf', tarball, '-C', unpacked], temp);
    const files = readdirSync(join(unpacked, 'package'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
    const relative = files.map((file) => file.slice(join(unpacked, 'package').length + 1)).sort();
    expect(relative).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']),
    );
    expect(relative).toContain('lua/start-task-5.lua');
    const naming = files.filter((file) => readFileSync(file, 'utf8').includes('@orch/'));
    expect(naming).toEqual([]);

    const manifest = JSON.parse(readFileSync(join(unpacked, 'package/package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: '@orchestrator/worker',
      license: 'Apache-2.0',
      main: 'dist/index.js',
      types: 'dist/index.d.ts',
      engines: { node: '>=20.11' },
    });
    expect(manifest.version).toBe(JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8')).version);
    expect(manifest.devDependencies).toBeUndefined();
    const dependencies = manifest.dependencies as Record<string, string>;
    expect(Object.keys(dependencies)).toEqual(expect.arrayContaining(['bullmq', 'ioredis', 'ajv', 'winston']));
    for (const [name, version] of Object.entries(dependencies)) expect(`${name}@${version}`).toMatch(/@\d+\.\d+\.\d+$/);
    // The versions the workspace runs: what the engine's own tests were run against.
    const bullmq = JSON.parse(readFileSync(join(ROOT, 'packages/engine/node_modules/bullmq/package.json'), 'utf8'));
    expect(dependencies.bullmq).toBe(bullmq.version);
  });

  it('type-checks strict TypeScript against the shipped declarations, with no @orch package installed', async () => {
    expect(readdirSync(join(project, 'node_modules'))).not.toContain('@orch');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] },
      }),
    );
    writeFileSync(
      join(project, 'tasks.ts'),
      `import { defineTask, PermanentTaskError, type RunningWorker, startWorker, type TaskContext } from '@orchestrator/worker';

const shout = defineTask<{ text: string }, { shouted: string }>({
  name: 'shout',
  parameters: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
  async handler({ text }, ctx: TaskContext) {
    ctx.heartbeat({ length: text.length });
    if (ctx.signal.aborted) throw new PermanentTaskError('aborted');
    return { shouted: text.toUpperCase() };
  },
});
export const started: Promise<RunningWorker> = startWorker({ redis: 'redis://localhost:6379', tasks: [shout] });
`,
    );
    expect(await tsc(['-p', '.'])).toEqual({ code: 0, output: '' });

    // The declarations type for real: a handler returning what its output type forbids is refused.
    writeFileSync(
      join(project, 'tasks.ts'),
      `import { defineTask } from '@orchestrator/worker';
export const bad = defineTask<{ text: string }, { shouted: string }>({
  name: 'bad',
  parameters: {},
  handler: ({ text }) => ({ shouted: text.length }),
});
`,
    );
    const refused = await tsc(['-p', '.']);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/tasks\.ts.*error TS2322.*number.*string/s);
  });

  describe('a worker run from the installed package', () => {
    let h: Harness;
    let child: ChildProcess | undefined;
    let output = '';

    afterAll(async () => {
      if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      await h?.stop();
    });

    /** Resolves when the worker prints `line`; rejects with all it printed if it exits first. */
    const printed = (line: string, ms: number) =>
      withDeadline(
        new Promise<void>((resolve, reject) => {
          const look = () => output.includes(line) && resolve();
          child?.stdout?.on('data', look);
          child?.once('exit', (code, signal) => reject(new Error(`worker exited ${code ?? signal}`)));
          look();
        }),
        ms,
        `the worker to print ${line}`,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nworker output:\n${output}`);
      });

    it('completes a workflow that uses its task type, with the handler output', async () => {
      h = await startHarness();
      writeFileSync(
        join(project, 'worker.js'),
        `const { defineTask, startWorker } = require('@orchestrator/worker');

const shout = defineTask({
  name: 'shout',
  parameters: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
  output: { type: 'object', required: ['shouted'] },
  async handler({ text }, ctx) {
    ctx.heartbeat();
    return { shouted: text.toUpperCase() + '!', pid: process.pid, attempt: ctx.attempt };
  },
});

startWorker({ redis: process.env.REDIS_URL, prefix: process.env.QUEUE_PREFIX, name: 'packaged', tasks: [shout] })
  .then((worker) => {
    console.log('packaged worker started');
    process.once('SIGTERM', () => worker.close().then(() => process.exit(0)));
  })
  .catch((error) => {
    console.error('packaged worker failed to start:', error);
    process.exit(1);
  });
`,
      );
      child = spawn(process.execPath, ['worker.js'], {
        cwd: project,
        env: { PATH: process.env.PATH ?? '', REDIS_URL: h.server.url, QUEUE_PREFIX: 'test', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-20_000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      await printed('packaged worker started', 30_000);

      const listed = await h.engine.workers();
      expect(listed.find((w) => w.name === 'packaged')).toMatchObject({
        kind: 'sdk',
        status: 'live',
        queues: ['shout'],
        task_types: ['shout'],
        version: JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8')).version,
        pid: child.pid,
      });

      // The test's engine runs the workflow job; the task goes to the packaged worker's queue.
      await h.engine.loadTaskTypes();
      await h.startWorker({ queues: ['default'] });
      const record = await h.run({
        id: 'packaged',
        tasks: [{ id: 'loud', type: 'shout', parameters: { text: 'hi' } }],
      });
      if (record.status !== 'completed') {
        throw new Error(`run ended ${record.status}: ${JSON.stringify(record.tasks)}\nworker output:\n${output}`);
      }
      expect(byId(record).loud).toMatchObject({
        status: 'completed',
        worker: 'packaged',
        output: { shouted: 'HI!', pid: child.pid, attempt: 1 },
      });

      // Stopped by its pid: SIGTERM closes it (out of the workers list) and it exits 0.
      const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
      process.kill(child.pid!, 'SIGTERM');
      expect(await withDeadline(exited, 15_000, 'the worker to exit')).toBe(0);
      await waitUntil(
        async () => !(await h.engine.workers()).some((w) => w.name === 'packaged'),
        5_000,
        'the closed worker to leave the workers list',
      );
    });
  });
});

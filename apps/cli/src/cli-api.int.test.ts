import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from '@orch/api/testing';
import { runCli } from './cli';

jest.setTimeout(60_000);

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
  api = await startApi(h);
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

interface Result {
  code: number;
  out: string[];
  err: string[];
}

/** Runs the CLI in-process against the test API; `seen` gets every stdout line as it is written. */
async function cli(argv: string[], options: { env?: Record<string, string>; seen?: (line: string) => void } = {}) {
  const result: Result = { code: -1, out: [], err: [] };
  result.code = await runCli(argv, {
    out: (l) => {
      result.out.push(l);
      options.seen?.(l);
    },
    err: (l) => result.err.push(l),
    env: { ORCHESTRATOR_URL: api.url, ...options.env },
  });
  return result;
}

function file(name: string, value: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'orch-cli-run-')), name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** A port nothing listens on: one the system just handed out and that was closed again. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const ESC = String.fromCharCode(27);

const DIAMOND = wf([probe('a'), probe('b', ['a']), probe('c', ['a']), probe('d', ['b', 'c'])], { id: 'diamond' });
const index = (lines: string[], text: string) => lines.findIndex((l) => l.startsWith(text));

describe('orchestrator run --watch (no TTY)', () => {
  it('prints one plain line per change, in order, then the result, and exits 0', async () => {
    const result = await cli(['run', file('diamond.json', DIAMOND), '--watch']);
    expect(result.err).toEqual([]);
    expect(result.code).toBe(0);
    const out = result.out;
    expect(out[0]).toMatch(/^run \S+ started \((running|pending)\)$/);
    expect(out[1]).toMatch(/^watching run \S+ \(diamond, 4 tasks\)$/);
    expect(out.filter((l) => l.includes(ESC))).toEqual([]);
    const order = ['run started', 'a: running', 'a: completed in', 'd: running', 'd: completed in', 'run completed'];
    const at = order.map((text) => index(out, text));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    for (const t of ['b', 'c']) {
      expect(index(out, `${t}: running`)).toBeGreaterThan(index(out, 'a: completed'));
      expect(index(out, `${t}: completed`)).toBeLessThan(index(out, 'd: running'));
    }
    expect(out.find((l) => l.startsWith('d: completed'))).toMatch(/^d: completed in \d+\.\d+s \[4\/4\]$/);
    // The run's result: the outputs of its final tasks (here d), not every task's.
    expect(out.slice(-3)).toEqual([
      expect.stringMatching(/^run completed after \d+\.\d+s \[4\/4 tasks completed\]$/),
      'result:',
      '  d: 5',
    ]);
  });

  it('runs a template file with variables checked locally, and --json prints the final record', async () => {
    const template = {
      id: 'greeter',
      name: 'Greeter',
      version: '1.0',
      variables: [
        { name: 'who', type: 'string', required: true },
        { name: 'times', type: 'integer', default: 2 },
      ],
      workflow: {
        id: 'greet',
        tasks: [{ id: 'hello', type: 'transform', parameters: { output: 'hello ${who} x${times}' } }],
      },
    };
    const path = file('greeter.json', template);
    const bad = await cli(['run', path, '--var', 'times=many']);
    expect(bad.code).toBe(1);
    expect(bad.err).toEqual([
      "variables do not fit template 'greeter'",
      "  /variables/who: variable 'who' is required",
      '  /variables/times: variable \'times\' must be an integer; got "many"',
    ]);
    const result = await cli(['run', path, '--var', 'who=world', '--watch', '--json']);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.out.join('\n'));
    expect(record).toMatchObject({
      status: 'completed',
      workflow: { id: 'greet' },
      variables: { who: 'world', times: 2 },
      tasks: [{ id: 'hello', status: 'completed', output: 'hello world x2' }],
    });
  });

  it('--target runs only the targets and what they need (Argo dag-targets); status says why the rest was skipped', async () => {
    const result = await cli(['run', file('diamond.json', DIAMOND), '--target', 'b', '--watch']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('c: skipped (not targeted) [1/4]');
    const id = /^run (\S+) started/.exec(result.out[0] as string)?.[1] as string;
    const status = await cli(['status', id]);
    expect(status.out.find((l) => l.trim().startsWith('d '))).toMatch(/^ {2}d +data +skipped .*\(not targeted\)$/);
    const unknown = await cli(['run', file('diamond.json', DIAMOND), '--target', 'z']);
    expect(unknown.code).toBe(1);
    expect(unknown.err[1]).toBe("  /targets/0: unknown task 'z'; the workflow's tasks are: a, b, c, d");
  });

  it('exits 1 with the error of a failed run, on stderr', async () => {
    const failing = wf([probe('ok'), probe('boom', ['ok'], { permanent: true }), probe('after', ['boom'])]);
    const result = await cli(['run', file('failing.json', failing), '--watch']);
    expect(result.code).toBe(1);
    expect(result.out).toContain('after: not run, an upstream task failed [3/3]');
    expect(result.out.find((l) => l.startsWith('boom: failed'))).toMatch(/^boom: failed after .*: task boom refuses/);
    expect(result.err[0]).toMatch(/^run failed after \S+ \[1\/3 tasks completed\]: .*boom/);
    expect(result.err).toContain('  boom failed (attempt 1): task boom refuses');
  });

  it('exits 2 for a cancelled run', async () => {
    const slow = file('slow.json', wf([probe('nap', [], { sleep_ms: 30_000 })]));
    const started = await cli(['run', slow, '--json']);
    const id = JSON.parse(started.out.join('\n')).execution_id as string;
    await h.started('nap');
    const watching = cli(['status', id, '--watch']);
    const cancelled = await cli(['cancel', id]);
    expect(cancelled).toMatchObject({ code: 0, out: [`run ${id} is stopping; it will end as cancelled`] });
    const watched = await watching;
    expect(watched.code).toBe(2);
    expect(watched.err[0]).toMatch(/^run cancelled after/);
  });
});

describe('orchestrator run --wait', () => {
  it('one request: prints the outcome when the run ends within the wait, exit code as --watch', async () => {
    const result = await cli(['run', file('wait.json', DIAMOND), '--wait', '10s']);
    expect(result.code).toBe(0);
    expect(result.out.join('\n')).toMatch(/run completed after/);
    const failing = wf([probe('boom', [], { permanent: true })]);
    const failed = await cli(['run', file('wait-failing.json', failing), '--wait', '10s', '--json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.out.join('\n'))).toMatchObject({
      status: 'failed',
      tasks: [{ id: 'boom', status: 'failed' }],
    });
  });

  it('answers as without it when the run is still going, and says what is wrong with a bad duration', async () => {
    const slow = file('wait-slow.json', wf([probe('nap', [], { sleep_ms: 30_000 })]));
    const started = await cli(['run', slow, '--wait', '100ms']);
    expect(started.code).toBe(0);
    expect(started.out[0]).toMatch(/^run \S+ started \(running\)$/);
    await h.engine.cancel(started.out[0]?.split(' ')[1] as string);
    const bad = await cli(['run', slow, '--wait', 'soon']);
    expect(bad.code).not.toBe(0);
    expect(bad.err.join('\n')).toMatch(/\/wait: must be a duration/);
  });
});

describe('orchestrator run --watch on a terminal', () => {
  it('redraws a frame in place with a progress bar', async () => {
    const out: string[] = [];
    const code = await runCli(['run', file('tty.json', DIAMOND), '--watch'], {
      out: (l) => out.push(l),
      err: () => undefined,
      env: { ORCHESTRATOR_URL: api.url, NO_COLOR: '1' },
      tty: true,
      columns: 80,
      rows: 24,
    });
    expect(code).toBe(0);
    // Every frame after the first moves back over the previous one (ESC [n F) and clears below it (ESC [J).
    const redraws = out.filter((l) => l.includes(ESC));
    expect(redraws.length).toBeGreaterThan(0);
    expect(redraws.filter((l) => new RegExp(`^${ESC}\\[\\d+F${ESC}\\[J`).test(l))).toEqual(redraws);
    const lastRedraw = out.length - 1 - [...out].reverse().findIndex((l) => l.includes(ESC));
    // After the frame: the summary, `result:` and the final task's output.
    const lastFrame = out.slice(lastRedraw, -3);
    expect(lastFrame[0]).toMatch(/run \S+ {2}diamond {2}COMPLETED$/);
    expect(lastFrame[1]).toMatch(/^\[█{24}\] 4\/4/);
    expect(lastFrame.slice(2).map((l) => l.trim().split(/\s+/).slice(0, 3))).toEqual([
      ['✓', 'a', 'completed'],
      ['✓', 'b', 'completed'],
      ['✓', 'c', 'completed'],
      ['✓', 'd', 'completed'],
    ]);
  });
});

describe('orchestrator status, list, logs', () => {
  let completed: string;
  let failed: string;
  beforeAll(async () => {
    completed = await h.submit(DIAMOND);
    failed = await h.submit(wf([probe('x', [], { permanent: true })]));
    await Promise.all([h.waitForEnd(completed), h.waitForEnd(failed)]);
  });

  it('status prints the run and its tasks; --json is the status record', async () => {
    const text = await cli(['status', completed]);
    expect(text.code).toBe(0);
    expect(text.out[0]).toBe(`run ${completed}`);
    expect(text.out).toContain('  workflow     diamond');
    expect(text.out.find((l) => l.startsWith('  status'))).toBe(`  status       completed  [${'█'.repeat(20)}] 4/4`);
    expect(text.out.find((l) => l.startsWith('  d '))).toMatch(/^ {2}d {4}data {7}completed {7}\s+\d+\.\d+s {2}on /);
    const json = JSON.parse((await cli(['status', completed, '--json'])).out.join('\n'));
    expect(json).toMatchObject({ execution_id: completed, status: 'completed', progress: { completed: 4, total: 4 } });
    expect(json.variables).toBeUndefined();
    expect(json.tasks.map((t: { id: string }) => t.id)).toEqual(['a', 'b', 'c', 'd']);
    const outputs = await cli(['status', completed, '--outputs']);
    expect(outputs.out.slice(-6)).toEqual([
      'result\n  {\n    "d": 5\n  }',
      'outputs',
      '  a: 1',
      '  b: 2',
      '  c: 2',
      '  d: 5',
    ]);
  });

  it('list --status filters; --json is the API page', async () => {
    const page = JSON.parse((await cli(['list', '--status', 'failed', '--json'])).out.join('\n'));
    expect(Object.keys(page).sort()).toEqual(['items', 'links', 'next_cursor']);
    expect(page.items.map((r: { status: string }) => r.status)).toEqual(page.items.map(() => 'failed'));
    expect(page.items.map((r: { execution_id: string }) => r.execution_id)).toContain(failed);
    const text = await cli(['list', '--status', 'completed', '--limit', '200']);
    expect(text.out[0]).toMatch(/^EXECUTION\s+STATUS\s+WORKFLOW\s+CREATED\s+TOOK\s+CORRELATION$/);
    expect(text.out.find((l) => l.startsWith(completed))).toMatch(
      new RegExp(`^${completed}\\s+completed\\s+diamond\\s+`),
    );
    expect(text.out.some((l) => l.startsWith(failed))).toBe(false);
    const paged = await cli(['list', '--limit', '1', '--status', 'completed']);
    expect(paged.out.at(-1)).toMatch(/^more: orchestrator list --status completed --limit 1 --cursor \S+$/);
    const wrong = await cli(['list', '--status', 'done']);
    expect(wrong.code).toBe(1);
    expect(wrong.err[0]).toMatch(/option '--status <status>' argument 'done' is invalid/);
  });

  it('logs prints the event stream of a run; --json one event per line', async () => {
    const text = await cli(['logs', completed]);
    expect(text.code).toBe(0);
    const types = text.out.map((l) => l.split('  ')[1]);
    expect(types[0]).toBe('workflow.created');
    expect(types.at(-1)).toBe('workflow.completed');
    expect(types.filter((t) => t === 'task.completed')).toHaveLength(4);
    expect(text.out.find((l) => l.includes('task.started  a'))).toMatch(
      /^\d{4}-\d\d-\d\dT\S+Z {2}task\.started {2}a {2}attempt 1 {2}on \S+$/,
    );
    const json = (await cli(['logs', completed, '--json'])).out.map((l) => JSON.parse(l));
    expect(json.map((e) => e.type)).toEqual(types);
    expect(json[0]).toEqual({
      id: expect.stringMatching(/^\d+-\d+$/),
      type: 'workflow.created',
      at: expect.any(String),
    });
  });

  it('logs without --follow returns on a live run; --follow waits for its end', async () => {
    const id = await h.submit(wf([probe('wait', [], { sleep_ms: 1500 })]));
    await h.started('wait');
    const now = await cli(['logs', id]);
    expect(now.out.map((l) => l.split('  ')[1])).toEqual(['workflow.created', 'workflow.started', 'task.started']);
    const all = await cli(['logs', id, '--follow']);
    expect(all.out.at(-1)).toMatch(/ {2}workflow\.completed$/);
  });

  it('shows API errors as code: message with pointers', async () => {
    const missing = await cli(['status', 'nope']);
    expect(missing).toMatchObject({ code: 1, out: [], err: ["NOT_FOUND: execution 'nope' was not found"] });
    const bad = await cli(['run', 'data-analysis-basic', '--var', 'query_limit=many']);
    expect(bad.code).toBe(1);
    expect(bad.err).toEqual([
      "VALIDATION_FAILED: variables do not fit template 'data-analysis-basic'",
      '  /variables/query_limit: variable \'query_limit\' must be an integer; got "many"',
    ]);
    const port = await closedPort();
    const down = await cli(['list'], { env: { ORCHESTRATOR_URL: `http://127.0.0.1:${port}` } });
    expect(down).toMatchObject({
      code: 1,
      err: [`UNREACHABLE: cannot reach the API at http://127.0.0.1:${port} (ECONNREFUSED); set ORCHESTRATOR_URL`],
    });
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from '@orch/api/testing';
import { completion, type ModelServer, startModelServer } from '@orch/generator/testing';
import { runCli } from './cli';

jest.setTimeout(60_000);

let h: Harness;
let api: TestApi;
let locked: TestApi;
let model: ModelServer;
const GENERATED = {
  id: 'generated',
  tasks: [
    { id: 'fetch', type: 'data', parameters: { operation: 'search', input: { value: 7 } } },
    { id: 'sum', type: 'ai', depends_on: ['fetch'], parameters: { prompt: 'Sum ${fetch.output}' } },
  ],
};
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 20 });
  model = await startModelServer(() => ({ json: completion(JSON.stringify(GENERATED)) }));
  const templates = mkdtempSync(join(tmpdir(), 'orch-cli-templates-'));
  api = await startApi(h, {
    OPENAI_BASE_URL: model.baseUrl,
    OPENAI_API_KEY: 'not-needed',
    OPENAI_MODEL: 'test-model',
    ORCHESTRATOR_TEMPLATES: templates,
  });
  locked = await startApi(h, { ORCHESTRATOR_API_KEYS: 'sesame' });
});
afterAll(async () => {
  await Promise.all([api?.service.close(), locked?.service.close()]);
  await model?.close();
  await h?.stop();
});

interface Result {
  code: number;
  out: string[];
  err: string[];
}

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

/** Starts `run <file> --watch` and resolves `waiting` with the run id once the watch prints a matching line. */
function watchUntil(workflow: unknown, match: RegExp) {
  const path = join(mkdtempSync(join(tmpdir(), 'orch-cli-ctl-')), 'wf.json');
  writeFileSync(path, JSON.stringify(workflow));
  let id = '';
  let found: (id: string) => void = () => undefined;
  const waiting = new Promise<string>((resolve) => {
    found = resolve;
  });
  const done = cli(['run', path, '--watch'], {
    seen: (line) => {
      id ||= /^run (\S+) started/.exec(line)?.[1] ?? '';
      if (match.test(line)) found(id);
    },
  });
  return { waiting, done };
}

const GATED = wf([
  probe('build'),
  { id: 'review', type: 'approval', depends_on: ['build'], parameters: { message: 'Ship it?', approvers: ['alice'] } },
  { id: 'ship', type: 'transform', depends_on: ['review'], parameters: { output: '${review.output.payload.ticket}' } },
]);

describe('approvals', () => {
  it('a watch shows what the run waits on; status names the approvers; approve lets it finish', async () => {
    const watch = watchUntil(GATED, /^review: waiting for approval/);
    const id = await watch.waiting;
    const status = await cli(['status', id]);
    expect(status.out.slice(-3)).toEqual([
      'waiting on',
      '  review: waiting for approval by alice: Ship it?',
      `    orchestrator approve ${id} review --by <name>   (or reject … --reason <text>)`,
    ]);
    const json = JSON.parse(
      (await cli(['approve', id, 'review', '--by', 'alice', '--payload', '{"ticket":"OPS-7"}', '--json'])).out.join(
        '\n',
      ),
    );
    expect(json).toMatchObject({ execution_id: id, task: 'review', decision: 'approve', by: 'alice' });
    const result = await watch.done;
    expect(result.code).toBe(0);
    const at = (text: string) => result.out.findIndex((l) => l.startsWith(text));
    expect(at('review: running')).toBeLessThan(at('review: waiting for approval by alice: Ship it?'));
    expect(at('review: waiting')).toBeLessThan(at('review: approved'));
    expect(at('review: approved')).toBeLessThan(at('ship: completed'));
    expect(result.out).toContain('  ship: "OPS-7"');
  });

  it('reject fails the run with the reason; a bad --payload is refused before any request', async () => {
    const watch = watchUntil(GATED, /^review: waiting for approval/);
    const id = await watch.waiting;
    const bad = await cli(['approve', id, 'review', '--payload', '{nope']);
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toBe('--payload must be JSON');
    const outsider = await cli(['reject', id, 'review', '--reason', 'freeze', '--by', 'bob']);
    expect(outsider).toMatchObject({
      code: 1,
      err: ['FORBIDDEN: task review may be decided only by alice; not by bob'],
    });
    const rejected = await cli(['reject', id, 'review', '--reason', 'freeze', '--by', 'alice']);
    expect(rejected).toMatchObject({ code: 0, out: [`rejected task review of run ${id} (by alice)`] });
    const result = await watch.done;
    expect(result.code).toBe(1);
    expect(result.err).toContain('  review failed (attempt 1): rejected by alice: freeze');
    const again = await cli(['approve', id, 'review', '--by', 'alice']);
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(/^CONFLICT: /);
  });
});

describe('pause, resume, retry', () => {
  it('pauses and resumes a run, then retries a failed one reusing completed tasks', async () => {
    const id = await h.submit(wf([probe('one', [], { sleep_ms: 300 }), probe('two', ['one'])]));
    await h.started('one');
    expect(await cli(['pause', id])).toMatchObject({ code: 0, out: [`run ${id} paused`] });
    expect(JSON.parse((await cli(['resume', id, '--json'])).out.join('\n'))).toMatchObject({
      execution_id: id,
      status: 'running',
    });
    expect((await h.waitForEnd(id)).status).toBe('completed');

    const failed = await h.submit(wf([probe('fine'), probe('flaky', ['fine'], { permanent: true })]));
    await h.waitForEnd(failed);
    const retried = await cli(['retry', failed]);
    expect(retried.code).toBe(0);
    expect(retried.out[0]).toMatch(
      new RegExp(`^run \\S+ started from ${failed}, reusing 1 completed task \\(fine\\)$`),
    );
    const json = await cli(['retry', failed, '--json']);
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({ retried_from: failed, reused: ['fine'] });
    const running = await cli(['retry', id.replace(/.$/, 'x')]);
    expect(running.err[0]).toMatch(/^NOT_FOUND: /);
  });
});

describe('API keys', () => {
  it('sends ORCHESTRATOR_API_KEY as a Bearer token, and shows a refusal as code: message', async () => {
    const env = { ORCHESTRATOR_URL: locked.url };
    const refused = await cli(['list'], { env });
    expect(refused).toMatchObject({
      code: 1,
      err: ['UNAUTHORIZED: this route needs an API key: send Authorization: Bearer <key>'],
    });
    const path = join(mkdtempSync(join(tmpdir(), 'orch-cli-key-')), 'wf.json');
    writeFileSync(path, JSON.stringify(wf([probe('k')])));
    const watched = await cli(['run', path, '--watch'], { env: { ...env, ORCHESTRATOR_API_KEY: 'sesame' } });
    expect(watched.code).toBe(0);
    expect(watched.out).toContain('  k: 1');
  });
});

describe('generate', () => {
  it('prints the workflow and its plan; --json is the API answer', async () => {
    const text = await cli(['generate', 'fetch then sum', '--services', 'data,ai']);
    expect(text.code).toBe(0);
    expect(text.out[0]).toMatch(/^# generated by test-model \(1 attempt/);
    expect(text.out).toContain('id: generated');
    expect(text.out.slice(-3)).toEqual(['valid: 2 tasks in 2 levels', '  level 0: fetch', '  level 1: sum']);
    expect(model.requests.at(-1)?.body.messages.at(-1).content).toContain('fetch then sum');
    const json = JSON.parse((await cli(['generate', 'again', '--dry-run', '--json'])).out.join('\n'));
    expect(json).toMatchObject({ valid: true, workflow: GENERATED, dry_run: { errors: [] } });
    const wrong = await cli(['generate', 'x', '--services', 'mail']);
    expect(wrong).toMatchObject({ code: 1, err: ['error: --services takes data, ai, exec; got mail'] });
  });

  it('--save-as writes a template, --execute --watch runs it to the end', async () => {
    const saved = await cli(['generate', 'keep it', '--save-as', 'kept']);
    expect(saved.out).toContain("saved as template kept (kept.yaml in the API's catalog)");
    const conflict = await cli(['generate', 'keep it', '--save-as', 'kept']);
    expect(conflict).toMatchObject({
      code: 1,
      err: [
        "CONFLICT: template 'kept' already exists; send overwrite: true to add a new version of it (catalog files are never replaced)",
      ],
    });
    const run = await cli(['generate', 'run it', '--execute', '--watch']);
    expect(run.code).toBe(0);
    expect(run.out.find((l) => /^run \S+ started \(/.test(l))).toBeDefined();
    expect(run.out.slice(-3)).toEqual([
      expect.stringMatching(/^run completed after \S+ \[2\/2 tasks completed\]$/),
      'result:',
      '  sum: 1',
    ]);
  });
});

describe('schedules', () => {
  it('creates, lists, shows, pauses, resumes and deletes a schedule', async () => {
    const catalogApi = await startApi(h); // the repository's templates
    const env = { env: { ORCHESTRATOR_URL: catalogApi.url } };
    try {
      const created = await cli(
        [
          'schedule',
          'create',
          'nightly',
          '0 3 * * *',
          'data-analysis-basic',
          '--var',
          'query_limit=5',
          '--timezone',
          'UTC',
        ],
        env,
      );
      expect([created.code, created.err]).toEqual([0, []]);
      expect(created.out[0]).toMatch(
        /^nightly {2}0 3 \* \* \* \(UTC\) {2}data-analysis-basic {2}next \d{4}-.* {2}fired 0, skipped 0$/,
      );
      const list = await cli(['schedules', '--json'], env);
      expect(JSON.parse(list.out.join('\n')).schedules.map((s: { id: string }) => s.id)).toEqual(['nightly']);
      expect((await cli(['schedule', 'pause', 'nightly'], env)).out[0]).toMatch(/ {2}paused {2}/);
      expect((await cli(['schedule', 'resume', 'nightly'], env)).out[0]).toMatch(/ {2}next /);
      expect((await cli(['schedule', 'show', 'nightly'], env)).code).toBe(0);
      expect((await cli(['schedule', 'delete', 'nightly'], env)).out).toEqual(['schedule nightly deleted']);
      expect((await cli(['schedules'], env)).out).toEqual(['no schedules']);
    } finally {
      await catalogApi.service.close();
    }
  });
});

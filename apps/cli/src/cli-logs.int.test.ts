import { mkdtempSync, writeFileSync } from 'node:fs';
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
  api = await startApi(h, {}, { heartbeatMs: 100 });
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

async function cli(argv: string[]) {
  const result = { code: -1, out: [] as string[], err: [] as string[] };
  result.code = await runCli(argv, {
    out: (l) => result.out.push(l),
    err: (l) => result.err.push(l),
    env: { ORCHESTRATOR_URL: api.url },
  });
  return result;
}

const LINE = /^\d{4}-\d\d-\d\dT\S+Z {2}/;
const text = (lines: string[]) => lines.map((l) => l.replace(LINE, ''));

describe('orchestrator logs <id> <task>', () => {
  it('-f follows a running attempt until it ends, then says how it ended', async () => {
    const id = await h.submit(wf([probe('slow', [], { log: ['fetching rows', 'parsed 3 rows'], sleep_ms: 700 })]));
    await h.started('slow');
    const followed = await cli(['logs', id, 'slow', '-f']);
    expect(followed.code).toBe(0);
    expect(followed.out.every((l) => LINE.test(l))).toBe(true);
    expect(text(followed.out)).toEqual(['info    fetching rows', 'info    parsed 3 rows']);
    expect(followed.err).toEqual(['attempt 1 of slow ended: completed']);
    expect((await h.waitForEnd(id)).status).toBe('completed');
  });

  it('prints the latest attempt, names the others, --attempt picks one, --json one line a line', async () => {
    const id = await h.submit(
      wf([
        probe(
          'flaky',
          [],
          { log: ['try'], fail_times: 1 },
          { retry_policy: { max_retries: 1, initial_delay: '10ms' } },
        ),
      ]),
    );
    await h.waitForEnd(id);
    const latest = await cli(['logs', id, 'flaky']);
    expect(text(latest.out)).toEqual(['info    try']);
    expect(latest.err).toEqual(['attempts with a log: 1, 2 (pick one with --attempt <n>)']);
    const json = await cli(['logs', id, 'flaky', '--attempt', '1', '--json']);
    expect(json.out.map((l) => JSON.parse(l))).toEqual([
      { id: expect.stringMatching(/^\d+-\d+$/), at: expect.any(String), stream: 'log', level: 'info', message: 'try' },
    ]);
    const bad = await cli(['logs', id, 'flaky', '--attempt', 'first']);
    expect(bad).toMatchObject({
      code: 1,
      err: ['BAD_OPTION: --attempt must be an attempt number (1 for the first); got first'],
    });
    const unknown = await cli(['logs', id, 'nope']);
    expect(unknown).toMatchObject({ code: 1, err: ["NOT_FOUND: task 'nope' was not found"] });
  });
});

describe('orchestrator run --watch', () => {
  it("ends with the run's result: its workflow's output, not every task's output", async () => {
    const workflow = wf([probe('a', [], { value: 3 }), probe('b', ['a'], { value: 4 })], {
      id: 'summed',
      output: { total: '${a.output + b.output}', note: 'done' },
    });
    const path = join(mkdtempSync(join(tmpdir(), 'orch-cli-result-')), 'summed.json');
    writeFileSync(path, JSON.stringify(workflow));
    const watched = await cli(['run', path, '--watch']);
    expect(watched.code).toBe(0);
    expect(watched.out.slice(-4)).toEqual([
      expect.stringMatching(/^run completed after \S+ \[2\/2 tasks completed\]$/),
      'result:',
      '  total: 7',
      '  note: "done"',
    ]);
  });
});

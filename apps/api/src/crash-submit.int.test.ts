import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { withDeadline } from '@orch/testing';
import { type Harness, probe, ROOT, startHarness, testEnv, wf } from './testing';

jest.setTimeout(180_000);

const SUBMISSIONS = 300;
/**
 * The API is killed once this many submissions have been answered: the rest are in flight, or not yet read (on the
 * machine this was written on, about 10 of the runs were created but not yet enqueued at that moment).
 */
const KILL_AFTER = 3;

let h: Harness;
const children: ChildProcess[] = [];
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 50 });
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'apps/api'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await h?.stop();
});

/** A real API process on the harness's Redis; resolves with its URL once it listens. */
async function spawnApi(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [join(ROOT, 'apps/api/dist/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...testEnv(h, { LOG_LEVEL: 'info' }) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(proc);
  let output = '';
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`API exited ${code}: ${output}`))),
  );
  const listening = new Promise<string>((resolve) => {
    proc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('"api listening"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  const url = await withDeadline(Promise.race([listening, exited]), 30_000, 'the API process to listen');
  exited.catch(() => undefined);
  return { proc, url };
}

const body = (i: number) => ({ correlation_id: `crash-${i}`, workflow: wf([probe('after_crash', [], { value: i })]) });

async function submit(url: string, i: number): Promise<{ http: number; execution_id: string; created: boolean }> {
  const response = await fetch(`${url}/api/v1/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body(i)),
  });
  const json = (await response.json()) as { execution_id: string; created: boolean };
  return { http: response.status, execution_id: json.execution_id, created: json.created };
}

describe('the API killed (SIGKILL) in the middle of many submissions', () => {
  it('leaves no correlation id claimed without its run, and every run it created runs to the end', async () => {
    const first = await spawnApi();
    const answered = new Map<number, string>();
    let killed = false;
    const settled = await Promise.allSettled(
      Array.from({ length: SUBMISSIONS }, async (_, i) => {
        const answer = await submit(first.url, i);
        if (killed) return;
        expect(answer.http).toBe(202);
        answered.set(i, answer.execution_id);
        if (answered.size === KILL_AFTER) {
          killed = true;
          first.proc.kill('SIGKILL');
        }
      }),
    );
    expect(killed).toBe(true);
    // Each submission was answered 202 or lost with the connection, nothing else.
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason).slice(0, 200)] : []));
    expect(failures.filter((f) => !/^TypeError: (fetch failed|terminated)/.test(f))).toEqual([]);

    // Every client retries with the same id and body, against a fresh API process.
    const second = await spawnApi();
    const retried = await Promise.all(Array.from({ length: SUBMISSIONS }, (_, i) => submit(second.url, i)));
    for (const [i, answer] of retried.entries()) {
      expect([i, answer.http]).toEqual([i, answered.has(i) || !answer.created ? 200 : 202]);
      if (answered.has(i)) expect([i, answer.execution_id]).toEqual([i, answered.get(i)]);
      // The run each id names exists: before, a claim could outlive a crash without its run (404 for the TTL).
      const record = await fetch(`${second.url}/api/v1/workflows/${answer.execution_id}`);
      expect([i, record.status]).toEqual([i, 200]);
    }
    // Runs created before the kill whose jobs never reached the queue are started by the workers' sweep.
    for (const [i, answer] of retried.entries()) {
      const record = await h.waitForEnd(answer.execution_id, 30_000);
      expect([i, record.status, record.tasks[0]?.output]).toEqual([i, 'completed', i]);
    }
    second.proc.kill('SIGTERM');
  });
});

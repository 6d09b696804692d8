import { tmpdir } from 'node:os';
import { runLocal } from './local-runner';
import type { RunSpec } from './run-outcome';
import { waitUntilGone } from './testing';

const spec = (argv: string[], overrides: Partial<RunSpec> = {}): RunSpec => ({
  argv,
  dir: tmpdir(),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  image: 'unused',
  timeoutMs: 10_000,
  maxOutputBytes: 1024,
  signal: new AbortController().signal,
  ...overrides,
});

describe('runLocal', () => {
  it('reports exit code, stdout and stderr, with exactly the given environment', async () => {
    const outcome = await runLocal(
      spec(['sh', '-c', 'echo "$GREETING $HOME"; echo oops >&2; exit 3'], {
        env: { PATH: process.env.PATH ?? '', GREETING: 'hi' },
      }),
    );
    expect(outcome).toMatchObject({
      exitCode: 3,
      signal: null,
      stdout: 'hi \n',
      stderr: 'oops\n',
      truncated: false,
      timedOut: false,
      cancelled: false,
    });
  });

  it('passes arguments as argv: no shell sees them', async () => {
    const outcome = await runLocal(spec(['echo', '$(id)', '; rm -rf /', '`x`']));
    expect(outcome.stdout).toBe('$(id) ; rm -rf / `x`\n');
  });

  it('caps each stream and says so', async () => {
    const outcome = await runLocal(spec(['head', '-c', '5000', '/dev/zero'], { maxOutputBytes: 100 }));
    expect(outcome.stdout).toHaveLength(100);
    expect(outcome.truncated).toBe(true);
  });

  it('kills the whole process group on timeout', async () => {
    const outcome = await runLocal(spec(['sh', '-c', 'sleep 30 & echo $!; echo $$; sleep 30'], { timeoutMs: 500 }));
    expect(outcome).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: 137 });
    const pids = outcome.stdout.trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    await waitUntilGone(pids);
  });

  it('kills the process group when cancelled, and what the command left running when it exits', async () => {
    const controller = new AbortController();
    let pid: number | undefined;
    const running = runLocal(
      spec(['sh', '-c', 'sleep 30 & echo $!; sleep 30'], {
        signal: controller.signal,
        onStart: (p) => {
          pid = p;
          controller.abort();
        },
      }),
    );
    const outcome = await running;
    expect(outcome.cancelled).toBe(true);
    expect(pid).toBe(outcome.pid);
    // SIGKILL is asynchronous and an orphan waits for init to reap it: gone within a deadline, not at once.
    await waitUntilGone([pid as number, Number(outcome.stdout.trim())]);

    const leftover = await runLocal(spec(['sh', '-c', 'sleep 30 > /dev/null & echo $!']));
    expect(leftover.exitCode).toBe(0);
    await waitUntilGone([Number(leftover.stdout.trim())]);
  });

  it('fails permanently when the program does not exist', async () => {
    await expect(runLocal(spec(['no-such-program-xyz']))).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      retryable: false,
      message: 'command not found: no-such-program-xyz',
    });
  });
});

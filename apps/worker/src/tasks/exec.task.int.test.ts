import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermanentTaskError, type TaskContext } from '@orch/engine';
import { ExecAgent, type ExecFinished, findProcesses, isAlive, waitFor, waitUntilGone } from '@orch/exec-agent/testing';
import { createLogger } from '@orch/logger';
import { type CancelEvent, MessageCoordinator } from '@orch/messaging';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import { createExecTask } from './exec.task';

const logger = createLogger({ level: 'error' });

const SECRET = 'exec-task-test-secret-0123456789abcdef';

/**
 * sh starts a background sleep and waits for it: two processes of the sandbox, found from the host by their argv
 * (inside, the sandbox numbers its processes from 1, so it cannot tell us their host pids).
 */
const tree = (marker: string) => `sleep ${marker} & sleep ${marker}; wait`;

describe('exec task handler against the exec-agent', () => {
  let server: RedisServer;
  let workspace: string;
  let agent: ExecAgent;
  let coordinator: MessageCoordinator;
  const exec = () => createExecTask({ coordinator });

  beforeAll(async () => {
    server = await startRedisServer();
    workspace = mkdtempSync(join(tmpdir(), 'exec-task-'));
    const redis = { host: server.host, port: server.port };
    agent = new ExecAgent({ redis, logger, workspaceDir: workspace, maxOutputBytes: 64 * 1024, secret: SECRET });
    await agent.start();
    coordinator = new MessageCoordinator({ redis, logger, secret: SECRET });
  });
  afterAll(async () => {
    await coordinator.close();
    await agent.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  const context = (overrides: Partial<TaskContext> = {}): TaskContext => ({
    executionId: 'exec-1',
    taskId: 'process_data',
    attempt: 1,
    signal: new AbortController().signal,
    deadline: Date.now() + 20_000,
    log: () => undefined,
    logger,
    ...overrides,
  });

  it('runs the data-analysis-basic step shape and parses JSON stdout', async () => {
    const output = await exec()(
      {
        image: 'python:3.12-slim',
        command: ['sh', '/workspace/input/process.sh'],
        files: [
          { name: 'combined.json', content: '{"rows": [1, 2, 3]}' },
          { name: 'process.sh', content: 'cd "$(dirname "$0")" && printf \'{"size": %s}\' $(wc -c < combined.json)' },
        ],
      },
      context(),
    );
    expect(output).toMatchObject({ exit_code: 0, mode: 'sandbox', json: { size: 19 }, stderr: '', truncated: false });
  });

  it('fails the attempt retryably on a non-zero exit, with the code and the end of stderr', async () => {
    const error = await exec()(
      { image: 'x', command: ['sh', '-c', 'echo starting; echo "boom: missing column" >&2; exit 4'] },
      context(),
    ).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(PermanentTaskError);
    expect(error).toMatchObject({
      code: 'TASK_FAILED',
      message: 'command exited with code 4; stderr: boom: missing column',
    });
  });

  it("writes the command's stdout and stderr to the attempt's task log, a line each, before failing it", async () => {
    const lines: [string, string | undefined][] = [];
    const error = await exec()(
      { image: 'x', command: ['sh', '-c', 'echo one; echo two; echo bad >&2; exit 3'] },
      context({ log: (message, options) => lines.push([message, options?.stream]) }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TASK_FAILED' });
    expect(lines).toEqual([
      ['one', 'stdout'],
      ['two', 'stdout'],
      ['bad', 'stderr'],
    ]);
  });

  it("streams the command's output into the task log while it runs, over the bus, signed", async () => {
    let settled = false;
    let firstSeen: () => void = () => undefined;
    const first = new Promise<void>((resolve) => {
      firstSeen = resolve;
    });
    const logged: [string, boolean][] = [];
    const call = exec()(
      { image: 'x', command: ['sh', '-c', 'echo first; sleep 1; printf "second"'] },
      context({
        log: (message) => {
          logged.push([message, settled]);
          if (message === 'first') firstSeen();
        },
      }),
    ).finally(() => {
      settled = true;
    });
    await withDeadline(first, 5000, 'the first line while the command runs');
    expect(settled).toBe(false);
    await call;
    // The last line had no newline: it is written when the call ends, before it resolves.
    expect(logged).toEqual([
      ['first', false],
      ['second', false],
    ]);
  });

  it('marks oversized output as truncated and does not read it as JSON', async () => {
    const warnings: string[] = [];
    const output = (await exec()(
      { image: 'x', command: ['sh', '-c', 'printf "["; head -c 100000 /dev/zero | tr "\\0" "1"; printf "]"'] },
      context({ log: (message, options) => options?.level === 'warn' && warnings.push(message) }),
    )) as { stdout: string; truncated: boolean; json?: unknown };
    expect(warnings).toEqual(["the command's output passed the exec-agent's limit per stream; the rest was dropped"]);
    expect(output.truncated).toBe(true);
    expect(output.stdout).toHaveLength(64 * 1024);
    expect(output.json).toBeUndefined();
  });

  it('on timeout kills the whole process tree and fails retryably', async () => {
    const marker = '300.0501';
    const finished = once(agent, 'finished');
    const call = exec()({ image: 'x', command: ['sh', '-c', tree(marker)], timeout: '3s' }, context()).catch(
      (e: unknown) => e,
    );
    await waitFor(() => findProcesses(['sleep', marker]).length === 2, 3000, 'both sleeps to run');
    const pids = findProcesses(['sleep', marker]);
    const error = await call;
    expect(error).not.toBeInstanceOf(PermanentTaskError);
    expect(error).toMatchObject({ retryable: true, remoteCode: 'TIMEOUT' });
    expect((error as Error).message).toMatch(/command timed out after 3000 ms and was killed/);
    const [event] = (await withDeadline(finished, 5000, 'the agent finishing')) as [ExecFinished];
    expect(event.outcome.timedOut).toBe(true);
    await waitUntilGone(pids);
  });

  it('cancel mid-call reaches the agent and kills the process group', async () => {
    const marker = '300.0502';
    const controller = new AbortController();
    const cancelled = once(agent.service, 'cancel');
    const finished = once(agent, 'finished');
    const call = exec()(
      { image: 'x', command: ['sh', '-c', tree(marker)] },
      context({ signal: controller.signal }),
    ).catch((e: unknown) => e);
    await waitFor(() => findProcesses(['sleep', marker]).length === 2, 10_000, 'both sleeps to run');
    const pids = findProcesses(['sleep', marker]);
    controller.abort(new Error('workflow cancelled'));
    expect(await call).toMatchObject({ message: 'the call to exec-agent was cancelled: workflow cancelled' });
    const [cancel] = (await withDeadline(cancelled, 5000, 'the cancel at the agent')) as [CancelEvent];
    expect(cancel.active).toBe(true);
    const [event] = (await withDeadline(finished, 5000, 'the agent finishing')) as [ExecFinished];
    expect(event.outcome.cancelled).toBe(true);
    await waitUntilGone(pids);
  });

  it('at the attempt deadline stops waiting, fails retryably, and the command dies', async () => {
    const finished = once(agent, 'finished');
    const error = await exec()({ image: 'x', command: ['sleep', '30'] }, context({ deadline: Date.now() + 500 })).catch(
      (e: unknown) => e,
    );
    expect(error).not.toBeInstanceOf(PermanentTaskError);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    const [event] = (await withDeadline(finished, 5000, 'the agent finishing')) as [ExecFinished];
    await waitUntilGone([event.outcome.pid as number]);
    expect(isAlive(event.outcome.pid as number)).toBe(false);
  });

  it('refuses a bad timeout before calling anything', async () => {
    await expect(exec()({ image: 'x', command: ['true'], timeout: 'soon' }, context())).rejects.toBeInstanceOf(
      PermanentTaskError,
    );
  });
});

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@orch/logger';
import { MessageCoordinator, SERVICE_CHANNELS } from '@orch/messaging';
import { type RedisServer, startRedisServer } from '@orch/testing';
import { ExecAgent, type ExecResult } from './exec-agent';

const logger = createLogger({ level: 'error' });
const { requests, responses } = SERVICE_CHANNELS.exec;

describe('ExecAgent over Redis', () => {
  let server: RedisServer;
  let workspace: string;
  let agent: ExecAgent;
  let coordinator: MessageCoordinator;

  beforeAll(async () => {
    server = await startRedisServer();
    workspace = mkdtempSync(join(tmpdir(), 'exec-agent-'));
    const redis = { host: server.host, port: server.port };
    agent = new ExecAgent({ redis, workspaceDir: workspace, logger, maxOutputBytes: 4096 });
    await agent.start();
    coordinator = new MessageCoordinator({ redis, logger });
  });
  afterAll(async () => {
    await coordinator.close();
    await agent.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  const run = (parameters: Record<string, unknown>, operation = 'run') =>
    coordinator.request(
      requests,
      responses,
      { execution_id: 'e1', task_id: 'process', attempt: 1, operation, parameters },
      { deadline: Date.now() + 20_000 },
    ) as Promise<ExecResult>;

  it('runs locally here, with inputs under /workspace/input and outputs returned', async () => {
    expect(agent.mode).toBe('local');
    const result = await run({
      image: 'python:3.12-slim',
      command: ['sh', '/workspace/input/job.sh', '/workspace/input/data.txt'],
      files: [
        { name: 'job.sh', content: 'tr a-z A-Z < "$1" > output/upper.txt; env | sort; pwd' },
        { name: 'data.txt', content: 'shout' },
      ],
      env: { STAGE: 'test' },
    });
    expect(result).toMatchObject({ exit_code: 0, mode: 'local', truncated: false, signal: null });
    expect(result.files).toEqual([{ name: 'upper.txt', size: 5, content: 'SHOUT' }]);
    const lines = result.stdout.trim().split('\n');
    const dir = lines.pop() as string;
    expect(dir.startsWith(join(workspace, 'req-'))).toBe(true);
    // Only PATH, HOME (the request directory), LANG and the request's env; PWD is the shell's own.
    expect(lines.map((l) => l.split('=')[0]).filter((name) => name !== 'PWD')).toEqual([
      'HOME',
      'LANG',
      'PATH',
      'STAGE',
    ]);
    expect(lines).toContain(`HOME=${dir}`);
    // The request directory is gone once the answer is out.
    expect(readdirSync(workspace)).toEqual([]);
  });

  it('refuses bad requests permanently', async () => {
    await expect(run({ image: 'x', command: 'rm -rf /' })).rejects.toMatchObject({
      retryable: false,
      remoteCode: 'BAD_REQUEST',
      message: expect.stringContaining('command must be a non-empty array of strings'),
    });
    await expect(
      run({ image: 'x', command: ['true'], files: [{ name: '../escape', content: '' }] }),
    ).rejects.toMatchObject({ retryable: false, message: expect.stringContaining("contains '..'") });
    await expect(run({ image: 'x', command: ['true'] }, 'shell')).rejects.toMatchObject({ retryable: false });
  });

  it('caps output and reports it', async () => {
    const result = await run({ image: 'x', command: ['head', '-c', '10000', '/dev/zero'] });
    expect(result.stdout).toHaveLength(4096);
    expect(result.truncated).toBe(true);
  });
});

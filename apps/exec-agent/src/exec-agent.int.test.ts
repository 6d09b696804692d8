import { once } from 'node:events';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@orch/logger';
import { MessageCoordinator, MessageSigner, type RejectedMessage, SERVICE_CHANNELS } from '@orch/messaging';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import { ExecAgent, type ExecResult } from './exec-agent';

const logger = createLogger({ level: 'error' });
const { requests, responses } = SERVICE_CHANNELS.exec;
const SECRET = 'exec-agent-test-secret-0123456789abcdef';

describe('ExecAgent over Redis', () => {
  let server: RedisServer;
  let workspace: string;
  let agent: ExecAgent;
  let coordinator: MessageCoordinator;
  let attacker: Redis;
  const started: string[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    workspace = mkdtempSync(join(tmpdir(), 'exec-agent-'));
    const redis = { host: server.host, port: server.port };
    agent = new ExecAgent({ redis, workspaceDir: workspace, logger, maxOutputBytes: 4096, secret: SECRET });
    agent.on('started', (event: { requestId: string }) => started.push(event.requestId));
    await agent.start();
    coordinator = new MessageCoordinator({ redis, logger, secret: SECRET });
    attacker = createRedisConnection(redis, 'worker');
  });
  afterAll(async () => {
    attacker.disconnect();
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

  it('runs in the sandbox, with inputs under /workspace/input and outputs returned', async () => {
    expect(agent.mode).toBe('sandbox');
    const result = await run({
      image: 'python:3.12-slim',
      command: ['sh', '/workspace/input/job.sh', '/workspace/input/data.txt'],
      files: [
        { name: 'job.sh', content: 'tr a-z A-Z < "$1" > output/upper.txt; env | sort; pwd; id -u' },
        { name: 'data.txt', content: 'shout' },
      ],
      env: { STAGE: 'test' },
    });
    expect(result).toMatchObject({ exit_code: 0, mode: 'sandbox', truncated: false, signal: null });
    expect(result.files).toEqual([{ name: 'upper.txt', size: 5, content: 'SHOUT' }]);
    const lines = result.stdout.trim().split('\n');
    expect(Number(lines.pop())).toBe(agent.commandUid);
    expect(agent.commandUid).not.toBe(0);
    expect(lines.pop()).toBe('/workspace');
    // Nothing of the agent's environment: the sandbox's own variables and the request's.
    expect(lines.map((l) => l.split('=')[0]).filter((name) => name !== 'PWD')).toEqual([
      'HOME',
      'LANG',
      'PATH',
      'STAGE',
      'TMPDIR',
    ]);
    // The request directory is gone once the answer is out.
    expect(readdirSync(workspace)).toEqual([]);
  });

  it('runs nothing for a bare PUBLISH exec-requests without a signature (the attack of issue #15)', async () => {
    const reply = createRedisConnection({ host: server.host, port: server.port }, 'worker');
    const replies: string[] = [];
    reply.on('message', (_channel: string, text: string) => replies.push(text));
    await reply.subscribe('attacker-replies');
    try {
      const request = {
        type: 'request',
        request_id: 'attack-1',
        execution_id: 'x',
        task_id: 'x',
        attempt: 1,
        idempotency_key: 'x:x',
        operation: 'run',
        parameters: { image: 'alpine', command: ['id'] },
        reply_channel: 'attacker-replies',
        deadline: Date.now() + 10_000,
      };
      const rejected = once(agent.service, 'rejected');
      expect(await attacker.publish(requests, JSON.stringify(request))).toBe(1);
      const [verdict] = (await withDeadline(rejected, 5000, 'the agent to reject it')) as [RejectedMessage];
      expect(verdict.reason).toBe('unsigned');
      // Signed with a guessed secret: refused the same way.
      const forged = once(agent.service, 'rejected');
      await attacker.publish(requests, new MessageSigner('guess').wrap(requests, JSON.stringify(request)));
      expect(((await withDeadline(forged, 5000, 'the forged one')) as [RejectedMessage])[0].reason).toBe(
        'bad signature',
      );
      // The rejection happens before anything is read, so no command started and no reply went out.
      expect(started).not.toContain('attack-1');
      const pong = once(reply, 'message');
      await attacker.publish('attacker-replies', 'marker');
      await withDeadline(pong, 5000, 'the marker');
      expect(replies).toEqual(['marker']);
    } finally {
      reply.disconnect();
    }
  });

  it("cannot reach the agent's Redis from a command", async () => {
    const probe = `import socket; socket.create_connection(("${server.host}", ${server.port}), timeout=2).sendall(b"PING\\r\\n"); print("reached")`;
    await expect(run({ image: 'x', command: ['python3', '-c', probe] })).resolves.toMatchObject({
      exit_code: 1,
      stdout: '',
      stderr: expect.stringMatching(/ConnectionRefusedError|Network is unreachable/),
    });
  });

  it('refuses a task that asks for network while EXEC_NETWORK=none', async () => {
    await expect(run({ image: 'x', command: ['true'], network: true })).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('this exec-agent runs with EXEC_NETWORK=none'),
    });
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

  it('refuses to start without SERVICE_SECRET, or without a sandbox unless EXEC_UNSANDBOXED=true', async () => {
    const redis = { host: server.host, port: server.port };
    const options = { redis, workspaceDir: workspace, logger, secret: SECRET };
    await expect(new ExecAgent({ ...options, secret: undefined }).start()).rejects.toThrow(
      /^SERVICE_SECRET is not set, so anyone able to PUBLISH on exec-requests could run commands/,
    );
    await expect(new ExecAgent({ ...options, bwrap: join(workspace, 'bwrap') }).start()).rejects.toThrow(
      /^bubblewrap \(bwrap\) is not installed: install it \(apt-get install bubblewrap/,
    );
    // A bwrap that cannot make namespaces (a container's seccomp profile, a sysctl): the probe finds out at start.
    const fakeDir = mkdtempSync(join(tmpdir(), 'fake-bwrap-'));
    chmodSync(fakeDir, 0o755);
    const fake = join(fakeDir, 'bwrap');
    writeFileSync(fake, '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n', {
      mode: 0o755,
    });
    await expect(new ExecAgent({ ...options, bwrap: fake }).start()).rejects.toThrow(
      'bubblewrap cannot create a sandbox here (bwrap: No permissions to create new namespace): it needs unprivileged user namespaces',
    );
    rmSync(fakeDir, { recursive: true, force: true });
    if (process.getuid?.() === 0) {
      // A workspace under a directory the sandbox user cannot pass through: found at start, not at the first task.
      const closed = mkdtempSync(join(tmpdir(), 'closed-')); // 0700
      await expect(new ExecAgent({ ...options, workspaceDir: join(closed, 'ws') }).start()).rejects.toThrow(
        `the sandbox user (uid 65534) cannot reach the exec workspace ${join(closed, 'ws')}: every directory above it must be searchable`,
      );
      rmSync(closed, { recursive: true, force: true });
    }
    // Explicitly unsandboxed, commands are plain processes of the agent's user: what the README calls trusted only.
    await agent.close();
    agent = new ExecAgent({ ...options, exec: { unsandboxed: true } });
    await agent.start();
    expect(agent.mode).toBe('local');
    const result = await run({ image: 'x', command: ['id', '-u'] });
    expect(result).toMatchObject({ mode: 'local', stdout: `${process.getuid?.()}\n` });
  });
});

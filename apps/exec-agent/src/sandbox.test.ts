import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestWorkspace } from './request-workspace';
import type { RunSpec } from './run-outcome';
import { isRoot, prepareWorkspace, Sandbox } from './sandbox';
import { type ExecLimits, SANDBOX_PATH } from './sandbox-args';
import { findProcesses, waitFor, waitUntilGone } from './testing';

jest.setTimeout(30_000);

/**
 * The attacks of issue #15 against the sandbox itself: each runs what an attacker with a valid key would put in an
 * `exec` task and asserts it fails, next to a control that shows the same probe succeeds where it should.
 */
const LIMITS: ExecLimits = { cpuSeconds: 1, memoryMb: 256, maxProcesses: 32, maxFileMb: 1, scratchMb: 8 };
const UID = 65534;

let root: string;
let sandbox: Sandbox;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sandbox-test-'));
  chmodSync(root, 0o711); // as the exec-agent makes its workspace: passable, not listable
  sandbox = await Sandbox.detect({ limits: LIMITS, uid: UID });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `argv` in a fresh request directory, as the exec-agent does. */
async function run(argv: string[], overrides: Partial<RunSpec> = {}, files: { name: string; content: string }[] = []) {
  const workspace = await RequestWorkspace.create(root, files);
  await prepareWorkspace(workspace.dir, UID);
  const outcome = await sandbox.run({
    argv,
    dir: workspace.dir,
    env: {},
    image: 'unused',
    timeoutMs: 15_000,
    maxOutputBytes: 64 * 1024,
    signal: new AbortController().signal,
    ...overrides,
  });
  return { ...outcome, workspace };
}

describe('the bubblewrap sandbox', () => {
  it('runs a command with /workspace, its inputs and outputs, and a clean environment', async () => {
    const result = await run(
      ['sh', '-c', 'tr a-z A-Z < input/data.txt > output/upper.txt; pwd; env | sort'],
      { env: { STAGE: 'test' } },
      [{ name: 'data.txt', content: 'shout' }],
    );
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(result.workspace.outputDir, 'upper.txt'), 'utf8')).toBe('SHOUT');
    const [pwd, ...env] = result.stdout.trim().split('\n');
    expect(pwd).toBe('/workspace');
    expect(env.filter((line) => !line.startsWith('PWD='))).toEqual([
      'HOME=/workspace',
      'LANG=C.UTF-8',
      `PATH=${SANDBOX_PATH}`,
      'STAGE=test',
      'TMPDIR=/workspace',
    ]);
  });

  it('runs as an unprivileged user with no capabilities and no way to make a user namespace', async () => {
    const result = await run(['sh', '-c', 'id -u; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status; unshare -U true']);
    const [uid, ...caps] = result.stdout.trim().split('\n');
    expect(Number(uid)).toBe(isRoot() ? UID : process.getuid?.());
    expect(Number(uid)).not.toBe(0);
    expect(caps.map((line) => line.split(/\s+/)[1])).toEqual([
      '0000000000000000',
      '0000000000000000',
      '0000000000000000',
    ]);
    expect(result.exitCode).not.toBe(0); // unshare -U is refused
  });

  describe('another process of the host', () => {
    let victim: ChildProcess;
    beforeAll(() => {
      // Stands for the API: a process whose environment holds a secret.
      victim = spawn('sleep', ['300.0415'], { env: { ORCHESTRATOR_API_KEYS: 'canary-key-7f3a' }, stdio: 'ignore' });
    });
    afterAll(() => {
      victim.kill('SIGKILL');
    });

    it("cannot have its /proc/<pid>/environ read (the control reads the victim's from the host)", async () => {
      const pid = victim.pid as number;
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).toContain('canary-key-7f3a');
      const result = await run(['sh', '-c', `cat /proc/${pid}/environ; cat /proc/*/environ | tr '\\0' '\\n'`]);
      expect(result.stdout).not.toContain('canary');
      expect(result.stderr).toContain(`/proc/${pid}/environ: No such file or directory`);
    });

    it('is not among the processes it sees: only its own, numbered from 1', async () => {
      const result = await run(['sh', '-c', 'ls /proc | grep -E "^[0-9]+$"']);
      const pids = result.stdout.trim().split('\n').map(Number);
      expect(pids).not.toContain(victim.pid);
      expect(pids).not.toContain(process.pid);
      expect(Math.max(...pids)).toBeLessThan(10);
    });
  });

  describe('a service listening on loopback (Redis, the API, a metadata endpoint)', () => {
    let server: Server;
    let port: number;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        connections += 1;
        socket.end('secret data\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const connect = () => [
      'python3',
      '-c',
      `import socket; s = socket.create_connection(("127.0.0.1", ${port}), timeout=2); print(s.recv(100).decode())`,
    ];

    it('cannot be reached without network', async () => {
      const result = await run(connect());
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/ConnectionRefusedError|Network is unreachable/);
      expect(result.stdout).not.toContain('secret data');
      expect(connections).toBe(0);
    });

    it('is reached when the task asked for network and the operator allowed it (the control)', async () => {
      const result = await run(connect(), { network: true });
      expect(result.stdout).toContain('secret data');
      expect(connections).toBe(1);
    });
  });

  it('cannot write outside its workspace: the system, /tmp, the agent workspace or its own inputs', async () => {
    const marker = join(tmpdir(), `sandbox-escape-${process.pid}`);
    const sibling = join(root, 'sibling.txt');
    const targets = [marker, sibling, '/etc/escape', '/usr/escape', '/workspace/input/data.txt'];
    const script = [...targets.map((t) => `echo x > ${t} && echo "wrote ${t}"`), 'echo ok > /workspace/output/ok.txt'];
    const result = await run(['sh', '-c', script.join('; ')], {}, [{ name: 'data.txt', content: 'original' }]);
    expect(result.stdout).toBe('');
    for (const target of [marker, sibling, '/etc/escape', '/usr/escape']) expect(existsSync(target)).toBe(false);
    expect(readFileSync(join(result.workspace.inputDir, 'data.txt'), 'utf8')).toBe('original');
    expect(readFileSync(join(result.workspace.outputDir, 'ok.txt'), 'utf8')).toBe('ok\n');
    expect(result.stderr).toMatch(/Read-only file system/);
  });

  it("sees none of the host's own files: no /root, /home, /run (Redis's socket), /tmp, /var, nor the agent's", async () => {
    const secret = join(root, 'agent-secret.txt');
    writeFileSync(secret, 'agent secret');
    const paths = ['/root', '/home', '/run', '/var', '/tmp', root, secret, process.cwd()];
    const result = await run(['sh', '-c', paths.map((p) => `ls -d ${p} 2>/dev/null && echo "saw ${p}"`).join('; ')]);
    expect(result.stdout).toBe('');
    expect(existsSync('/run')).toBe(true); // the control: they are there on the host
    const cat = await run(['cat', secret]);
    expect([cat.exitCode, cat.stdout]).toEqual([1, '']);
  });

  it('stops a fork bomb at the process limit', async () => {
    const forks = [
      'import os, time',
      'n = 0',
      'for i in range(500):',
      '    try:',
      '        pid = os.fork()',
      '    except OSError as e:',
      '        print("refused after", n, e.strerror); break',
      '    if pid == 0:',
      '        time.sleep(30); os._exit(0)',
      '    n += 1',
      'else:',
      '    print("forked", n)',
    ].join('\n');
    const result = await run(['python3', '-c', forks]);
    const match = /^refused after (\d+) Resource temporarily unavailable$/.exec(result.stdout.trim());
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThan(LIMITS.maxProcesses);
  });

  it('stops a huge file at the file size limit, and a full scratch space at its size', async () => {
    const big = await run(['sh', '-c', 'head -c 5000000 /dev/zero > /workspace/output/big.bin; echo $?']);
    expect(big.stdout.trim()).toBe('153'); // 128 + SIGXFSZ
    expect(statSync(join(big.workspace.outputDir, 'big.bin')).size).toBe(LIMITS.maxFileMb * 1024 * 1024);
    const scratch = await run([
      'sh',
      '-c',
      'for i in 1 2 3 4 5 6 7 8 9; do head -c 1000000 /dev/zero > /workspace/f$i; done',
    ]);
    expect(scratch.stderr).toContain('No space left on device');
  });

  it('stops a memory hog at the memory limit and a busy loop at the CPU limit', async () => {
    const memory = await run(['python3', '-c', 'x = bytearray(512 * 1024 * 1024); print("allocated")']);
    expect(memory.stdout).toBe('');
    expect(memory.stderr).toContain('MemoryError');
    const cpu = await run(['sh', '-c', 'while :; do :; done']);
    expect(cpu).toMatchObject({ timedOut: false, signal: 'SIGXCPU', exitCode: 152 });
  });

  it('kills the whole tree on timeout, including what left the session (setsid)', async () => {
    const marker = ['sleep', '300.0416'];
    const running = run(['sh', '-c', `setsid ${marker.join(' ')} & ${marker.join(' ')}`], { timeoutMs: 4000 });
    await waitFor(() => findProcesses(marker).length === 2, 4000, 'both sleeps to run');
    const pids = findProcesses(marker);
    expect(await running).toMatchObject({ timedOut: true, cancelled: false, signal: 'SIGKILL', exitCode: 137 });
    await waitUntilGone(pids);
  });

  it('kills the whole tree on cancel, and whatever the command leaves behind when it exits', async () => {
    const marker = ['sleep', '300.0417'];
    const controller = new AbortController();
    const running = run(['sh', '-c', `setsid ${marker.join(' ')} & ${marker.join(' ')}`], {
      signal: controller.signal,
    });
    await waitFor(() => findProcesses(marker).length === 2, 10_000, 'both sleeps to run');
    const pids = findProcesses(marker);
    controller.abort();
    expect(await running).toMatchObject({ cancelled: true, signal: 'SIGKILL' });
    await waitUntilGone(pids);
    const daemon = ['sleep', '300.0418'];
    const left = await run(['sh', '-c', `setsid ${daemon.join(' ')} > /dev/null 2>&1 & echo started`]);
    expect(left).toMatchObject({ exitCode: 0, stdout: 'started\n' });
    await waitUntilGone(findProcesses(daemon));
  });

  it('refuses programs it cannot see, before starting anything', async () => {
    await expect(run(['no-such-program-xyz'])).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      retryable: false,
      message: 'command not found: no-such-program-xyz',
    });
    // The agent's own PATH is not the sandbox's: a program only the agent's user has is not there.
    await expect(run([join(root, 'x')])).rejects.toMatchObject({ message: `command not found: ${join(root, 'x')}` });
  });
});

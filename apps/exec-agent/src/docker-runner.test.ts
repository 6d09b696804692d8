import { containerOptions, type DockerLimits } from './docker-runner';
import type { RunSpec } from './run-outcome';

const LIMITS: DockerLimits = {
  cpuSeconds: 60,
  memoryMb: 512,
  maxProcesses: 64,
  maxFileMb: 10,
  scratchMb: 32,
  cpus: 1.5,
};
const spec = (overrides: Partial<RunSpec> = {}): RunSpec => ({
  argv: ['python3', '/workspace/input/job.py'],
  dir: '/tmp/orchestrator/req-abc',
  env: { STAGE: 'test' },
  image: 'python:3.12-slim',
  timeoutMs: 1000,
  maxOutputBytes: 1024,
  signal: new AbortController().signal,
  ...overrides,
});

describe('containerOptions (what the Docker runner asks the engine for)', () => {
  it('locks the container down by default', () => {
    const options = containerOptions(spec(), LIMITS, 65534);
    expect(options).toMatchObject({
      Image: 'python:3.12-slim',
      Cmd: ['python3', '/workspace/input/job.py'],
      WorkingDir: '/workspace',
      User: '65534:65534',
      NetworkDisabled: true,
    });
    expect(options.Env).toEqual(['HOME=/workspace', 'TMPDIR=/workspace', 'LANG=C.UTF-8', 'STAGE=test']);
    expect(options.HostConfig).toEqual({
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/workspace': 'rw,nosuid,nodev,size=32m,mode=1777' },
      Binds: [
        '/tmp/orchestrator/req-abc/input:/workspace/input:ro',
        '/tmp/orchestrator/req-abc/output:/workspace/output:rw',
      ],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 64,
      Memory: 512 * 1024 * 1024,
      MemorySwap: 512 * 1024 * 1024,
      NanoCpus: 1_500_000_000,
      Ulimits: [
        { Name: 'cpu', Soft: 60, Hard: 61 },
        { Name: 'fsize', Soft: 10 * 1024 * 1024, Hard: 10 * 1024 * 1024 },
        { Name: 'core', Soft: 0, Hard: 0 },
        { Name: 'nofile', Soft: 1024, Hard: 1024 },
      ],
      Init: true,
      AutoRemove: false,
    });
  });

  it('never runs as root, and gives the network only when the request carries the allowed flag', () => {
    expect(containerOptions(spec(), LIMITS, 1000).User).toBe('1000:1000');
    const networked = containerOptions(spec({ network: true }), LIMITS, 65534);
    expect(networked.NetworkDisabled).toBe(false);
    expect(networked.HostConfig?.NetworkMode).toBe('bridge');
    expect(() => containerOptions(spec(), LIMITS, 0)).toThrow('never as root');
  });
});

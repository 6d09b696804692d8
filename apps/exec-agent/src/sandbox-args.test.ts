import { bwrapArgs, prlimitArgs, type SandboxLayout } from './sandbox-args';

const LAYOUT: SandboxLayout = {
  bwrap: '/usr/bin/bwrap',
  prlimit: '/usr/bin/prlimit',
  env: '/usr/bin/env',
  system: [{ name: 'bin', symlink: 'usr/bin' }, { name: 'lib64' }],
};
const LIMITS = { cpuSeconds: 10, memoryMb: 64, maxProcesses: 16, maxFileMb: 2, scratchMb: 4 };

describe('bwrapArgs', () => {
  it('unshares everything, mounts only the system read-only and the request directory, and sets limits first', () => {
    const args = bwrapArgs(LAYOUT, {
      dir: '/ws/req-1',
      argv: ['python3', '-c', 'print(1)'],
      env: { HOME: '/workspace', LD_PRELOAD: '/workspace/input/evil.so' },
      network: false,
      limits: LIMITS,
    });
    expect(args.join(' ')).toBe(
      [
        '--unshare-all --unshare-user --disable-userns --die-with-parent --new-session --clearenv --hostname sandbox',
        '--ro-bind /usr /usr --symlink usr/bin /bin --ro-bind /lib64 /lib64 --ro-bind /etc /etc --proc /proc --dev /dev',
        '--size 4194304 --tmpfs /workspace',
        '--ro-bind /ws/req-1/input /workspace/input --bind /ws/req-1/output /workspace/output --chdir /workspace --',
        '/usr/bin/prlimit --cpu=10:11 --as=67108864 --nproc=16 --fsize=2097152 --core=0 --nofile=1024 --',
        '/usr/bin/env -i -- HOME=/workspace LD_PRELOAD=/workspace/input/evil.so python3 -c print(1)',
      ].join(' '),
    );
    // The request's environment reaches only the command: prlimit runs after --clearenv, before env -i sets it.
    expect(args.indexOf('LD_PRELOAD=/workspace/input/evil.so')).toBeGreaterThan(args.indexOf('/usr/bin/env'));
  });

  it('keeps the network namespace only when asked', () => {
    const args = bwrapArgs(LAYOUT, { dir: '/d', argv: ['true'], env: {}, network: true, limits: LIMITS });
    expect(args.slice(0, 4)).toEqual(['--unshare-all', '--unshare-user', '--disable-userns', '--share-net']);
    expect(prlimitArgs(LIMITS)).toContain('--nproc=16');
  });
});

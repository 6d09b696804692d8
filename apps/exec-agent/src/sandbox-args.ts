import type { ExecSettings } from '@orch/config';

/** The limits every sandboxed command runs under (EXEC_* settings). */
export type ExecLimits = Pick<ExecSettings, 'cpuSeconds' | 'memoryMb' | 'maxProcesses' | 'maxFileMb' | 'scratchMb'>;

/** Inside the sandbox PATH is fixed: the agent's own PATH names directories the sandbox does not have. */
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface SandboxLayout {
  bwrap: string;
  /** Both must be inside what the sandbox sees (/usr): they run in it. */
  prlimit: string;
  env: string;
  /** Top-level directories of the host system and what they are: a directory to mount read-only, or a symlink. */
  system: { name: string; symlink?: string }[];
}

export interface SandboxCommand {
  /** The request directory: `input/` is mounted read-only at /workspace/input, `output/` writable at /workspace/output. */
  dir: string;
  argv: string[];
  env: Record<string, string>;
  network: boolean;
  limits: ExecLimits;
}

const MiB = 1024 * 1024;

/**
 * The bubblewrap command line for one command. Every namespace is new (user, PID, network, IPC, UTS, cgroup): the
 * command sees only its own processes, has no network (unless asked and allowed), no capabilities and cannot make
 * user namespaces of its own. The system (/usr, /etc and the /bin, /lib links) is read-only; /workspace is a
 * size-capped tmpfs holding the request's input (read-only) and output (writable) directories: nothing else of the
 * host is there, in particular not /proc of the host, /tmp, /run or the agent's files. Limits are set by prlimit
 * and the environment by `env -i`, both inside and after --clearenv, so nothing the request passes (LD_PRELOAD)
 * reaches a program before its limits are in force.
 */
export function bwrapArgs(layout: SandboxLayout, command: SandboxCommand): string[] {
  const { limits } = command;
  const args = ['--unshare-all', '--unshare-user', '--disable-userns'];
  if (command.network) args.push('--share-net');
  args.push('--die-with-parent', '--new-session', '--clearenv', '--hostname', 'sandbox');
  args.push('--ro-bind', '/usr', '/usr');
  for (const entry of layout.system) {
    if (entry.symlink !== undefined) args.push('--symlink', entry.symlink, `/${entry.name}`);
    else args.push('--ro-bind', `/${entry.name}`, `/${entry.name}`);
  }
  args.push('--ro-bind', '/etc', '/etc', '--proc', '/proc', '--dev', '/dev');
  args.push('--size', String(limits.scratchMb * MiB), '--tmpfs', '/workspace');
  args.push('--ro-bind', `${command.dir}/input`, '/workspace/input');
  args.push('--bind', `${command.dir}/output`, '/workspace/output');
  args.push('--chdir', '/workspace', '--');
  args.push(layout.prlimit, ...prlimitArgs(limits), '--');
  args.push(layout.env, '-i', '--', ...Object.entries(command.env).map(([k, v]) => `${k}=${v}`));
  args.push(...command.argv);
  return args;
}

/** CPU: SIGXCPU at the limit, SIGKILL a second later. Memory is address space (RLIMIT_AS). */
export function prlimitArgs(limits: ExecLimits): string[] {
  return [
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--as=${limits.memoryMb * MiB}`,
    `--nproc=${limits.maxProcesses}`,
    `--fsize=${limits.maxFileMb * MiB}`,
    '--core=0',
    '--nofile=1024',
  ];
}

/** What commands find in their environment besides the request's own variables. */
export function sandboxEnv(requested: Record<string, string>): Record<string, string> {
  return {
    PATH: SANDBOX_PATH,
    HOME: '/workspace',
    TMPDIR: '/workspace',
    LANG: 'C.UTF-8',
    ...requested,
  };
}

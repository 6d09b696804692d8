import { accessSync, constants as fsConstants, lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, readdir } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { delimiter, join, posix } from 'node:path';
import { ServiceCallError } from '@orch/messaging';
import { runLaunched } from './local-runner';
import type { RunOutcome, RunSpec } from './run-outcome';
import { bwrapArgs, type ExecLimits, SANDBOX_PATH, type SandboxLayout, sandboxEnv } from './sandbox-args';

/** The host's top-level system directories the sandbox mirrors (read-only, or as the same symlink). */
const SYSTEM_DIRS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

export interface SandboxOptions {
  limits: ExecLimits;
  /** The uid (and gid) commands run as when this process is root; otherwise they run as this process's user. */
  uid: number;
  /** Where bwrap is; defaults to /usr/bin/bwrap, then PATH. */
  bwrap?: string;
  /** Where request directories will be (ORCHESTRATOR_WORKSPACE): the start-up probe runs one there. */
  workspace?: string;
}

/** The exec-agent cannot start safely (no sandbox here, no secret); the message names what is missing and what to do. */
export class ExecAgentStartError extends Error {
  override readonly name = 'ExecAgentStartError';

  /** What the process prints when it refuses to start (no stack: the message says it all). */
  describe(): string {
    return this.message;
  }
}

/**
 * Runs commands under bubblewrap (see sandbox-args.ts) as an unprivileged user, each in its own namespaces. Made
 * with `detect()`, which checks every piece and runs one command through the whole chain, so an agent that cannot
 * sandbox says so at start rather than at the first task.
 */
export class Sandbox {
  private constructor(
    private readonly layout: SandboxLayout,
    private readonly options: SandboxOptions,
  ) {}

  static async detect(options: SandboxOptions): Promise<Sandbox> {
    const candidates = options.bwrap ? [options.bwrap] : ['/usr/bin/bwrap', ...pathDirs().map((d) => join(d, 'bwrap'))];
    const bwrap = findProgram('bwrap', candidates);
    if (!bwrap) {
      throw new ExecAgentStartError(
        'bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap; scripts/bootstrap.sh does), or set EXEC_UNSANDBOXED=true to run commands as plain processes of this user (trusted single user only)',
      );
    }
    const prlimit = findProgram('prlimit', ['/usr/bin/prlimit', '/bin/prlimit']);
    const env = findProgram('env', ['/usr/bin/env', '/bin/env']);
    if (!prlimit || !env) {
      throw new ExecAgentStartError(
        `${prlimit ? 'env (coreutils)' : 'prlimit (util-linux)'} is not in /usr/bin: the sandbox sets its limits with it`,
      );
    }
    const system = SYSTEM_DIRS.flatMap((name) => {
      const path = `/${name}`;
      try {
        const stats = lstatSync(path);
        if (stats.isSymbolicLink()) return [{ name, symlink: readlinkSync(path) }];
        return stats.isDirectory() ? [{ name }] : [];
      } catch {
        return [];
      }
    });
    const sandbox = new Sandbox({ bwrap, prlimit, env, system }, options);
    await sandbox.probe();
    return sandbox;
  }

  /** The host uid commands run as. */
  get uid(): number {
    return isRoot() ? this.options.uid : (process.getuid?.() ?? this.options.uid);
  }

  async run(spec: RunSpec): Promise<RunOutcome> {
    const [program] = spec.argv;
    if (!program) throw new ServiceCallError('BAD_REQUEST', 'command is empty', { retryable: false });
    if (program.includes('=')) {
      throw new ServiceCallError('BAD_REQUEST', `the program name ${JSON.stringify(program)} contains '='`, {
        retryable: false,
      });
    }
    if (!this.visible(program, spec.dir)) {
      throw new ServiceCallError('BAD_REQUEST', `command not found: ${program}`, { retryable: false });
    }
    const args = bwrapArgs(this.layout, {
      dir: spec.dir,
      argv: spec.argv,
      env: sandboxEnv(spec.env),
      network: spec.network === true,
      limits: this.options.limits,
    });
    const root = isRoot();
    const outcome = await runLaunched(spec, {
      file: this.layout.bwrap,
      args,
      cwd: '/',
      env: { PATH: '/usr/bin:/bin' },
      ...(root ? { uid: this.options.uid, gid: this.options.uid } : {}),
    });
    // bwrap exits 128 + n when a signal ended the command, as a shell reports it.
    if (outcome.signal === null && outcome.exitCode > 128) {
      const name = Object.entries(osConstants.signals).find(([, n]) => n === outcome.exitCode - 128)?.[0];
      if (name) return { ...outcome, signal: name };
    }
    return outcome;
  }

  /** Whether the program exists as the sandbox sees it: on its PATH, in the system, or in the workspace. */
  private visible(program: string, dir: string): boolean {
    const inside = program.includes('/') ? [posix.resolve('/workspace', program)] : [];
    if (!program.includes('/')) for (const d of SANDBOX_PATH.split(':')) inside.push(`${d}/${program}`);
    return inside.some((path) => {
      const host = path.startsWith('/workspace/input/') ? join(dir, path.slice('/workspace'.length)) : path;
      const mirrored = ['/usr/', '/etc/', ...SYSTEM_DIRS.map((d) => `/${d}/`), '/workspace/input/'];
      return mirrored.some((prefix) => path.startsWith(prefix)) && isExecutable(host);
    });
  }

  /** One `true` through bwrap, prlimit and env, as a task would run. */
  private async probe(): Promise<void> {
    const dir = mkdtempSync(join(this.options.workspace ?? tmpdir(), 'probe-'));
    try {
      await mkdir(join(dir, 'input'));
      await mkdir(join(dir, 'output'));
      await prepareWorkspace(dir, this.options.uid);
      const outcome = await this.run({
        argv: ['true'],
        dir,
        env: {},
        image: 'probe',
        timeoutMs: 10_000,
        maxOutputBytes: 4096,
        signal: new AbortController().signal,
      }).catch((error: Error) => ({ exitCode: -1, stderr: error.message }));
      if (outcome.exitCode !== 0 && /Can't find source path .*Permission denied/.test(outcome.stderr)) {
        throw new ExecAgentStartError(
          `the sandbox user (uid ${this.uid}) cannot reach the exec workspace ${this.options.workspace ?? tmpdir()}: every directory above it must be searchable by others (chmod o+x), or set ORCHESTRATOR_WORKSPACE to a directory under /tmp`,
        );
      }
      if (outcome.exitCode !== 0) {
        throw new ExecAgentStartError(
          `bubblewrap cannot create a sandbox here (${outcome.stderr.trim() || `exit ${outcome.exitCode}`}): it needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; in a container, a seccomp profile that allows them), or set EXEC_UNSANDBOXED=true (trusted single user only)`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Lets the sandbox user reach a request directory: when the agent is root, the command runs as `uid`, which must be
 * able to pass through the directories above `input/` and `output/` and write `output/`; the directory names stay
 * unlistable.
 */
export async function prepareWorkspace(dir: string, uid: number): Promise<void> {
  if (!isRoot()) return;
  await chmod(dir, 0o711);
  await chown(join(dir, 'output'), uid, uid);
  // Whatever the umask made of them, inputs are readable (and never writable) by the sandbox user.
  const open = async (path: string): Promise<void> => {
    await chmod(path, 0o755);
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) await open(child);
      else if (entry.isFile()) await chmod(child, 0o644);
    }
  };
  await open(join(dir, 'input'));
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function pathDirs(): string[] {
  return (process.env.PATH ?? '').split(delimiter).filter(Boolean);
}

function findProgram(name: string, candidates: string[]): string | undefined {
  return candidates.find((path) => path.split('/').pop()?.startsWith(name) && isExecutable(path));
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

import type { ExecSettings } from '@orch/config';
import { ServiceCallError } from '@orch/messaging';
import Docker, { type ContainerCreateOptions } from 'dockerode';
import { CappedOutput } from './capped-output';
import type { RunOutcome, RunSpec } from './run-outcome';
import { type ExecLimits, sandboxEnv } from './sandbox-args';

const PING_TIMEOUT_MS = 1500;
const MiB = 1024 * 1024;

export type DockerLimits = ExecLimits & Pick<ExecSettings, 'cpus'>;

/**
 * What `docker run` would be given, as Engine API options: a non-root user, no network unless the task asked and
 * the operator allowed it, a read-only root with a size-capped tmpfs /workspace holding the request's input
 * (read-only) and output (writable) directories, every capability dropped, no-new-privileges, and limits on
 * processes, memory (no swap on top), CPUs, CPU time and file size. An init reaps what the command leaves behind.
 */
export function containerOptions(spec: RunSpec, limits: DockerLimits, user: number): ContainerCreateOptions {
  if (user === 0) throw new Error('the Docker runner runs commands as a non-root user, never as root');
  const network = spec.network === true;
  const ulimit = (Name: string, value: number) => ({ Name, Soft: value, Hard: value });
  return {
    Image: spec.image,
    Cmd: spec.argv,
    Env: Object.entries(sandboxEnv(spec.env))
      .filter(([name]) => name !== 'PATH') // the image's own PATH
      .map(([name, value]) => `${name}=${value}`),
    WorkingDir: '/workspace',
    User: `${user}:${user}`,
    NetworkDisabled: !network,
    HostConfig: {
      NetworkMode: network ? 'bridge' : 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/workspace': `rw,nosuid,nodev,size=${limits.scratchMb}m,mode=1777` },
      Binds: [`${spec.dir}/input:/workspace/input:ro`, `${spec.dir}/output:/workspace/output:rw`],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: limits.maxProcesses,
      Memory: limits.memoryMb * MiB,
      MemorySwap: limits.memoryMb * MiB,
      NanoCpus: Math.round(limits.cpus * 1e9),
      Ulimits: [
        { Name: 'cpu', Soft: limits.cpuSeconds, Hard: limits.cpuSeconds + 1 },
        ulimit('fsize', limits.maxFileMb * MiB),
        ulimit('core', 0),
        ulimit('nofile', 1024),
      ],
      Init: true,
      AutoRemove: false,
    },
  };
}

/**
 * Runs a command in a throw-away container (see containerOptions). Untested on machines without a Docker engine
 * beyond the options it builds, so it stays small: create, attach, start, wait, remove; the container is killed
 * on timeout or cancel and removed whatever happens.
 */
export class DockerRunner {
  private constructor(
    private readonly docker: Docker,
    private readonly limits: DockerLimits,
    private readonly user: number,
  ) {}

  /** A runner when a Docker engine answers within a moment, otherwise undefined. */
  static async detect(
    limits: DockerLimits,
    user: number,
    docker: Docker = new Docker(),
  ): Promise<DockerRunner | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    const answered = await Promise.race([
      docker.ping().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
    clearTimeout(timer);
    return answered ? new DockerRunner(docker, limits, user) : undefined;
  }

  async run(spec: RunSpec): Promise<RunOutcome> {
    const started = Date.now();
    await this.ensureImage(spec.image);
    const container = await this.docker.createContainer(containerOptions(spec, this.limits, this.user));
    const stdout = new CappedOutput(spec.maxOutputBytes, (part) => spec.onOutput?.('stdout', part));
    const stderr = new CappedOutput(spec.maxOutputBytes, (part) => spec.onOutput?.('stderr', part));
    let timedOut = false;
    let cancelled = false;
    const kill = () => void container.kill().catch(() => undefined);
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, spec.timeoutMs);
    spec.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      this.docker.modem.demuxStream(stream, stdout.writable(), stderr.writable());
      if (spec.signal.aborted) onAbort();
      else await container.start();
      spec.onStart?.(undefined);
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      return {
        exitCode: StatusCode,
        signal: timedOut || cancelled ? 'SIGKILL' : null,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        timedOut,
        cancelled,
        durationMs: Date.now() - started,
      };
    } finally {
      clearTimeout(timer);
      spec.signal.removeEventListener('abort', onAbort);
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  private async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch {
      // Not here yet: pull it.
    }
    try {
      const progress = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve())),
      );
    } catch (error) {
      throw new ServiceCallError('UPSTREAM_ERROR', `could not pull image ${image}: ${(error as Error).message}`, {
        retryable: true,
        cause: error,
      });
    }
  }
}

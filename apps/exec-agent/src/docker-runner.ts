import { ServiceCallError } from '@orch/messaging';
import Docker from 'dockerode';
import { CappedOutput } from './capped-output';
import type { RunOutcome, RunSpec } from './run-outcome';

const PING_TIMEOUT_MS = 1500;

/**
 * Runs a command in a throw-away container with the request directory mounted at /workspace, no network and a
 * process limit. Untested on machines without a Docker engine, so it stays small: create, attach, start, wait,
 * remove; the container is killed on timeout or cancel and removed whatever happens.
 */
export class DockerRunner {
  private constructor(private readonly docker: Docker) {}

  /** A runner when a Docker engine answers within a moment, otherwise undefined. */
  static async detect(docker: Docker = new Docker()): Promise<DockerRunner | undefined> {
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
    return answered ? new DockerRunner(docker) : undefined;
  }

  async run(spec: RunSpec): Promise<RunOutcome> {
    const started = Date.now();
    await this.ensureImage(spec.image);
    const container = await this.docker.createContainer({
      Image: spec.image,
      Cmd: spec.argv,
      Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
      WorkingDir: '/workspace',
      NetworkDisabled: true,
      HostConfig: { Binds: [`${spec.dir}:/workspace`], PidsLimit: 512, AutoRemove: false },
    });
    const stdout = new CappedOutput(spec.maxOutputBytes);
    const stderr = new CappedOutput(spec.maxOutputBytes);
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

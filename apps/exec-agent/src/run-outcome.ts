/** How a command ended, whichever runner ran it. */
export interface RunOutcome {
  /** The exit status; 128 + signal number when a signal ended it (as a shell reports it). */
  exitCode: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** stdout or stderr passed the byte limit and was cut. */
  truncated: boolean;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** The local process (and process group) id: the command's, or bwrap's in a sandbox; absent in Docker mode. */
  pid?: number;
}

export interface RunSpec {
  argv: string[];
  /** The request directory: the working directory, mounted at /workspace in Docker mode. */
  dir: string;
  env: Record<string, string>;
  image: string;
  timeoutMs: number;
  maxOutputBytes: number;
  signal: AbortSignal;
  /** The task asked for network access and the operator allows it (EXEC_NETWORK=allowed). */
  network?: boolean;
  onStart?: (pid: number | undefined) => void;
  /** Each piece of stdout or stderr kept (within maxOutputBytes), as the command writes it. */
  onOutput?: (stream: 'stdout' | 'stderr', part: Buffer) => void;
}

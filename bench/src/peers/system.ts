/** The workflows every system implements with no-op steps. */
export type Flow = 'chain' | 'diamond' | 'fanout' | 'five';

export type SystemName = 'orchestrator' | 'restate' | 'dbos';

/** One caller that submits a run and waits for its result, one run at a time. */
export interface RunClient {
  /** Submits `flow` and resolves once its result is in; rejects if the run did not succeed. */
  run(flow: Flow, width?: number): Promise<void>;
  close(): void;
}

/** A way in: the orchestrator has two (HTTP + SSE, and the Redis bus), each peer one. */
export interface Variant {
  key: string;
  system: SystemName;
  label: string;
  /** The workloads it runs (default every one with clients: a, b, c). */
  workloads?: readonly ('a' | 'b' | 'c')[];
  client(): Promise<RunClient>;
}

/** What a flat-out submitter sends: a request answered as soon as the run is recorded (2xx), not when it ends. */
export interface Submission {
  url: string;
  body: string;
}

/** Counts completed 5-task runs during the flat-out workload. */
export interface CompletionCounter {
  /** Cheap progress: runs that finished since `arm()` (polled every 100 ms while draining). */
  progress(): Promise<number>;
  /** Runs durably recorded as completed with a completion time in [from, to] (epoch ms), from the system itself. */
  completedBetween(from: number, to: number): Promise<number>;
  close(): Promise<void>;
}

export interface RunningSystem {
  name: SystemName;
  /** Root pids of every process of the system; CPU is read from their process trees. */
  pids(): number[];
  variants: Variant[];
  flatOut: Submission;
  /** Starts counting 5-task completions from now. */
  counter(): Promise<CompletionCounter>;
  /** Versions and durability settings, for the JSON and the README. */
  describe(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

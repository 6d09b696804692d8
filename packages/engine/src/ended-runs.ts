import type { FinalStatus } from '@orch/run-model';

/**
 * The runs this process ended lately, with their final status. An end is final (a retry is a new run), so a run
 * found here needs no read to know it: the workflow job that follows a run ended early by its last task's job
 * returns at once. Bounded, oldest forgotten first; a run not found is simply read.
 */
export class EndedRuns {
  private readonly ended = new Map<string, FinalStatus>();

  constructor(private readonly size = 10_000) {}

  add(id: string, status: FinalStatus): void {
    this.ended.set(id, status);
    if (this.ended.size > this.size) this.ended.delete(this.ended.keys().next().value as string);
  }

  get(id: string): FinalStatus | undefined {
    return this.ended.get(id);
  }
}

import type { ExecutionDefinition } from './execution-definition';
import { parseDefinition } from './run-layout';
import { DEFINITION_IN_JOB_MAX } from './task-job';

/**
 * Compiled definitions by execution id, per process: a definition never changes, so it is read once (or parsed from
 * the job that carried it) and kept for the newest `size` runs. Also the JSON of the runs this process created,
 * which their first jobs carry.
 */
export class DefinitionCache {
  private readonly byId = new Map<string, Promise<ExecutionDefinition>>();
  private readonly texts = new WeakMap<ExecutionDefinition, string>();

  constructor(private readonly size: number) {}

  get(id: string): Promise<ExecutionDefinition> | undefined {
    return this.byId.get(id);
  }

  /** A run this process created, with the JSON it was written with. */
  created(def: ExecutionDefinition, text: string): void {
    this.set(def.executionId, Promise.resolve(def));
    if (text.length <= DEFINITION_IN_JOB_MAX) this.texts.set(def, text);
  }

  /** The JSON `def` was created with here, when it is small enough to ride in the run's first jobs. */
  textOf(def: ExecutionDefinition): string | undefined {
    return this.texts.get(def);
  }

  /** The definition from `text` (a job's copy) or else `read` (its key), kept unless loading it fails. */
  load(id: string, read: () => Promise<string | null>, text?: string): Promise<ExecutionDefinition> {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const loading = text
      ? Promise.resolve(parseDefinition(text))
      : read().then((json) => {
          if (!json) throw new Error(`execution ${id} has no definition (expired or never created)`);
          return parseDefinition(json);
        });
    loading.catch(() => this.byId.delete(id));
    this.set(id, loading);
    return loading;
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  private set(id: string, def: Promise<ExecutionDefinition>): void {
    this.byId.set(id, def);
    if (this.byId.size > this.size) this.byId.delete(this.byId.keys().next().value as string);
  }
}

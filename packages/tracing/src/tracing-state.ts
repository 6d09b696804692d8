import type { ChosenIdGenerator } from './id-generator';

/** Set while this process's SDK runs: the engine checks `tracingOn()` before any tracing step. */
let state: { ids: ChosenIdGenerator } | undefined;

export function setTracingState(next: { ids: ChosenIdGenerator } | undefined): void {
  state = next;
}

export function tracingOn(): boolean {
  return state !== undefined;
}

export function chosenIds(): ChosenIdGenerator | undefined {
  return state?.ids;
}

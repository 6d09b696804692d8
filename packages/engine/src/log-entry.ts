/** One entry of a task attempt's log as append-log takes it; `end` says how the attempt ended (in `level`). */
export interface LogEntryInput {
  stream: 'log' | 'stdout' | 'stderr' | 'end';
  level: string;
  text: string;
  at: number;
}

/** What append-log needs: the attempt, its cap in bytes and the marker line that says it was hit, the entries. */
export interface AppendLogInput {
  taskId: string;
  attempt: number;
  cap: number;
  marker: string;
  entries: readonly LogEntryInput[];
}

const MAX_QUOTED = 200;

/** Wraps a source in double quotes for messages; very long sources are shortened so logs stay readable. */
export function quoteSource(source: string): string {
  const shown = source.length > MAX_QUOTED ? `${source.slice(0, MAX_QUOTED)}…` : source;
  return `"${shown}"`;
}

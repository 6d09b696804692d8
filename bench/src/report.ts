import type { Row } from './bench-case';

const HEADERS = ['case', 'orchestrator', 'raw BullMQ', 'ratio', 'target', 'ok'] as const;

function cells(row: Row): string[] {
  const ok = row.ok === undefined ? '' : row.ok ? 'yes' : 'NO';
  return [row.case, row.orchestrator, row.raw, row.ratio, row.target, ok];
}

/** A Markdown table (readable in a terminal and pasteable into an issue). */
export function renderTable(rows: Row[]): string {
  return renderGrid(HEADERS.slice(), rows.map(cells));
}

/** A Markdown table of any columns. */
export function renderGrid(headers: string[], rows: string[][]): string {
  const matrix = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...matrix.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(matrix[0] as string[]), rule, ...matrix.slice(1).map(line)].join('\n');
}

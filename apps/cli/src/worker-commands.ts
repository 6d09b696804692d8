import type { Worker } from '@orch/api-client';
import type { Command } from 'commander';
import { type CommandContext, type Flags, printJson } from './cli-io';

/** `workers`: every worker by its heartbeats (GET /api/v1/workers). */
export function registerWorkerCommands(program: Command, ctx: CommandContext): void {
  program
    .command('workers')
    .description('list workers with their queues, task types, active jobs and last heartbeat (lost after 3 missed)')
    .option('--json', 'print the list as JSON')
    .action(async (opts: Flags) => {
      const client = ctx.client();
      const answer = await client.call(client.api.GET('/api/v1/workers'));
      if (opts.json) return printJson(ctx.io, answer.body);
      const { workers } = answer.body;
      if (workers.length === 0) return ctx.io.out('no workers (none sent a heartbeat in the last hour)');
      for (const line of workerTable(workers, Date.now())) ctx.io.out(line);
    });
}

/** One row per worker: name, status, kind, queues, active/concurrency, seconds since its last heartbeat. */
export function workerTable(workers: readonly Worker[], now: number): string[] {
  const rows = workers.map((w) => [
    w.name,
    w.status,
    w.kind,
    w.queues.join(','),
    `${w.active}/${w.concurrency}`,
    `${Math.max(0, Math.round((now - Date.parse(w.last_heartbeat_at)) / 1000))}s ago`,
    `${w.host}:${w.pid}`,
  ]);
  const header = ['NAME', 'STATUS', 'KIND', 'QUEUES', 'ACTIVE', 'HEARTBEAT', 'HOST:PID'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [header, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd(),
  );
}

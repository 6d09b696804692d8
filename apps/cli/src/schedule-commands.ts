import type { Command } from 'commander';
import type { Json } from './api-client';
import { type CommandContext, collectVar, type Flags, printJson } from './cli-io';

/** `schedules` (list), `schedule create|show|pause|resume|delete`: cron schedules through the REST API. */
export function registerScheduleCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const line = scheduleLine;

  program
    .command('schedules')
    .description('list cron schedules with their next run and counters')
    .option('--json', 'print the list as JSON')
    .action(async (opts: Flags) => {
      const answer = await ctx.client().request('GET', '/api/v1/schedules');
      if (opts.json) return printJson(io, answer.body);
      const schedules = (answer.body as Json).schedules as Json[];
      if (schedules.length === 0) io.out('no schedules');
      for (const s of schedules) io.out(line(s));
    });

  const schedule = program.command('schedule').description('create, show, pause, resume or delete one schedule');
  schedule
    .command('create')
    .description('create or replace a schedule of a catalog template')
    .argument('<id>')
    .argument('<cron>', 'cron pattern, e.g. "0 3 * * *" (6 fields for seconds)')
    .argument('<template-id>')
    .option('--var <key=value>', 'a variable (repeatable)', collectVar, {} as Record<string, string>)
    .option('--timezone <tz>', 'IANA time zone')
    .option('--allow-overlap', 'start a run even while the previous one is still active')
    .option('--json', 'print the schedule as JSON')
    .action(
      async (
        id: string,
        cron: string,
        template: string,
        opts: Flags & { var: Record<string, string>; timezone?: string; allowOverlap?: boolean },
      ) => {
        const body = {
          id,
          cron,
          workflow_template: template,
          variables: opts.var,
          overlap: opts.allowOverlap ? 'allow' : 'skip',
          ...(opts.timezone ? { timezone: opts.timezone } : {}),
        };
        const answer = await ctx.client().request('POST', '/api/v1/schedules', body);
        if (opts.json) printJson(io, answer.body);
        else io.out(line(answer.body));
      },
    );
  schedule
    .command('show')
    .argument('<id>')
    .option('--json', 'print the schedule and its firings as JSON')
    .action(async (id: string, opts: Flags) => {
      const answer = await ctx.client().request('GET', `/api/v1/schedules/${encodeURIComponent(id)}`);
      if (opts.json) return printJson(io, answer.body);
      io.out(line(answer.body));
      for (const f of (answer.body as Json).firings as Json[]) {
        io.out(`  ${f.fired_at}  ${f.execution_id ? `run ${f.execution_id}` : `skipped: ${f.skipped}`}`);
      }
    });
  for (const action of ['pause', 'resume'] as const) {
    schedule
      .command(action)
      .argument('<id>')
      .option('--json', 'print the schedule as JSON')
      .action(async (id: string, opts: Flags) => {
        const answer = await ctx.client().request('POST', `/api/v1/schedules/${encodeURIComponent(id)}/${action}`);
        if (opts.json) printJson(io, answer.body);
        else io.out(line(answer.body));
      });
  }
  schedule
    .command('delete')
    .argument('<id>')
    .action(async (id: string) => {
      await ctx.client().request('DELETE', `/api/v1/schedules/${encodeURIComponent(id)}`);
      io.out(`schedule ${id} deleted`);
    });
}

/** One schedule on one line: id, cron, workflow, next run or paused, counters, last run. */
function scheduleLine(s: Json): string {
  return `${s.id}  ${s.cron}${s.timezone ? ` (${s.timezone})` : ''}  ${s.workflow_template ?? 'inline workflow'}  ${
    s.paused ? 'paused' : `next ${s.next_run_at ?? '-'}`
  }  fired ${s.fired}, skipped ${s.skipped}${s.last_execution_id ? `, last run ${s.last_execution_id}` : ''}`;
}

import type { RequestBody, Schedule } from '@orch/api-client';
import type { Command } from 'commander';
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
      const client = ctx.client();
      const answer = await client.call(client.api.GET('/api/v1/schedules'));
      if (opts.json) return printJson(io, answer.body);
      const schedules = answer.body.schedules;
      if (schedules.length === 0) io.out('no schedules');
      for (const s of schedules) io.out(line(s));
    });

  registerScheduleCommand(program, ctx);
}

/** `schedule create|show|pause|resume|delete`. */
function registerScheduleCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const line = scheduleLine;
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
        const body: RequestBody<'createSchedule'> = {
          id,
          cron,
          workflow_template: template,
          variables: opts.var,
          overlap: opts.allowOverlap ? 'allow' : 'skip',
          ...(opts.timezone ? { timezone: opts.timezone } : {}),
        };
        const client = ctx.client();
        const answer = await client.call(client.api.POST('/api/v1/schedules', { body }));
        if (opts.json) printJson(io, answer.body);
        else io.out(line(answer.body));
      },
    );
  schedule
    .command('show')
    .argument('<id>')
    .option('--json', 'print the schedule and its firings as JSON')
    .action(async (id: string, opts: Flags) => {
      const client = ctx.client();
      const answer = await client.call(client.api.GET('/api/v1/schedules/{id}', { params: { path: { id } } }));
      if (opts.json) return printJson(io, answer.body);
      io.out(line(answer.body));
      for (const f of answer.body.firings) {
        io.out(`  ${f.fired_at}  ${f.execution_id ? `run ${f.execution_id}` : `skipped: ${f.skipped}`}`);
      }
    });
  for (const action of ['pause', 'resume'] as const) {
    schedule
      .command(action)
      .argument('<id>')
      .option('--json', 'print the schedule as JSON')
      .action(async (id: string, opts: Flags) => {
        const client = ctx.client();
        const params = { params: { path: { id } } };
        const answer = await client.call(
          action === 'pause'
            ? client.api.POST('/api/v1/schedules/{id}/pause', params)
            : client.api.POST('/api/v1/schedules/{id}/resume', params),
        );
        if (opts.json) printJson(io, answer.body);
        else io.out(line(answer.body));
      });
  }
  schedule
    .command('delete')
    .argument('<id>')
    .action(async (id: string) => {
      const client = ctx.client();
      await client.call(client.api.DELETE('/api/v1/schedules/{id}', { params: { path: { id } } }));
      io.out(`schedule ${id} deleted`);
    });
}

/** One schedule on one line: id, cron, workflow, next run or paused, counters, last run. */
function scheduleLine(s: Schedule): string {
  return `${s.id}  ${s.cron}${s.timezone ? ` (${s.timezone})` : ''}  ${s.workflow_template ?? 'inline workflow'}  ${
    s.paused ? 'paused' : `next ${s.next_run_at ?? '-'}`
  }  fired ${s.fired}, skipped ${s.skipped}${s.last_execution_id ? `, last run ${s.last_execution_id}` : ''}`;
}

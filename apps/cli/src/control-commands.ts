import type { Command } from 'commander';
import { type Json, runPath } from './api-client';
import { type CommandContext, type Flags, jsonOption, printJson } from './cli-io';
import { watchRun } from './run-watch';

/** `cancel`, `retry`, `pause`, `resume`, `approve`, `reject`: changing a run through the REST API. */
export function registerControlCommands(program: Command, ctx: CommandContext): void {
  registerRunControl(program, ctx);
  registerApprovals(program, ctx);
}

/** `cancel`, `retry`, `pause`, `resume`. */
function registerRunControl(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const post = postAndPrint.bind(null, ctx);

  program
    .command('cancel')
    .description('cancel a pending or running run (running tasks are aborted)')
    .argument('<execution-id>')
    .option('--json', 'print the API answer as JSON')
    .action(async (id: string, opts: Flags) => {
      await post(runPath(id, '/cancel'), undefined, opts, (_a, status) =>
        status === 200 ? `run ${id} cancelled` : `run ${id} is stopping; it will end as cancelled`,
      );
    });

  program
    .command('retry')
    .description('start a new run of a finished run, reusing the outputs of its completed tasks')
    .argument('<execution-id>')
    .option('--watch', 'follow the new run until it ends')
    .option('--json', 'print the API answer (with --watch: the final record) as JSON')
    .action(async (id: string, opts: Flags) => {
      const answer = await post(runPath(id, '/retry'), undefined, { json: opts.json && !opts.watch }, (a) => {
        const reused = a.reused as string[];
        return `run ${a.execution_id} started from ${id}, reusing ${reused.length} completed task${reused.length === 1 ? '' : 's'}${reused.length ? ` (${reused.join(', ')})` : ''}`;
      });
      if (opts.watch) ctx.exit(await watchRun(ctx.client(), io, answer.execution_id, { json: opts.json }));
    });

  program
    .command('pause')
    .description('pause a running run: no task starts until resume; running tasks finish; the timeout keeps counting')
    .argument('<execution-id>')
    .option('--json', 'print the API answer as JSON')
    .action(async (id: string, opts: Flags) => {
      await post(runPath(id, '/pause'), undefined, opts, (a) => `run ${id} ${a.status}`);
    });

  program
    .command('resume')
    .description('resume a paused run')
    .argument('<execution-id>')
    .option('--json', 'print the API answer as JSON')
    .action(async (id: string, opts: Flags) => {
      await post(runPath(id, '/resume'), undefined, opts, (a) => `run ${id} ${a.status}`);
    });
}

/** `approve`, `reject`. */
function registerApprovals(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const post = postAndPrint.bind(null, ctx);

  program
    .command('approve')
    .description('approve an approval task; the payload becomes its output')
    .argument('<execution-id>')
    .argument('<task>')
    .option('--payload <json>', 'the task output, as JSON')
    .option('--by <name>', 'who approves, for the record')
    .option('--json', 'print the API answer as JSON')
    .action(async (id: string, task: string, opts: { payload?: string; by?: string } & Flags) => {
      const body: Record<string, unknown> = {};
      if (opts.payload !== undefined) body.payload = jsonOption('--payload', opts.payload);
      if (opts.by) body.by = opts.by;
      await post(runPath(id, `/tasks/${encodeURIComponent(task)}/approve`), body, opts, () =>
        decided('approved', task, id, opts.by),
      );
    });

  program
    .command('reject')
    .description('reject an approval task; it fails with the reason')
    .argument('<execution-id>')
    .argument('<task>')
    .option('--reason <text>', 'why; quoted in the task error')
    .option('--by <name>', 'who rejects, for the record')
    .option('--json', 'print the API answer as JSON')
    .action(async (id: string, task: string, opts: { reason?: string; by?: string } & Flags) => {
      const body: Record<string, unknown> = {};
      if (opts.reason !== undefined) body.reason = opts.reason;
      if (opts.by) body.by = opts.by;
      await post(runPath(id, `/tasks/${encodeURIComponent(task)}/reject`), body, opts, () =>
        decided('rejected', task, id, opts.by),
      );
    });
}

/** A POST whose answer is printed as JSON with --json, else as `line(answer)`. */
async function postAndPrint(
  ctx: CommandContext,
  path: string,
  body: unknown,
  opts: Flags,
  line: (answer: Json, status: number) => string,
): Promise<Json> {
  const answer = await ctx.client().post(path, body);
  if (opts.json) printJson(ctx.io, answer.body);
  else ctx.io.out(line(answer.body, answer.status));
  return answer.body as Json;
}

function decided(what: string, task: string, id: string, by?: string): string {
  return `${what} task ${task} of run ${id}${by ? ` (by ${by})` : ''}`;
}

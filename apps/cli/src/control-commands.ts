import type { RequestBody } from '@orch/api-client';
import type { Command } from 'commander';
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

  program
    .command('cancel')
    .description('cancel a pending or running run (running tasks are aborted)')
    .argument('<execution-id>')
    .option('--json', 'print the API answer as JSON')
    .action(async (id: string, opts: Flags) => {
      const { api } = ctx.client();
      await print(ctx, api.POST('/api/v1/workflows/{id}/cancel', run(id)), opts, (_a, status) =>
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
      const { api } = ctx.client();
      const retried = api.POST('/api/v1/workflows/{id}/retry', run(id));
      const answer = await print(ctx, retried, { json: opts.json && !opts.watch }, (a) => {
        const reused = a.reused;
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
      const { api } = ctx.client();
      await print(ctx, api.POST('/api/v1/workflows/{id}/pause', run(id)), opts, (a) => `run ${id} ${a.status}`);
    });

  program
    .command('resume')
    .description('resume a paused run')
    .argument('<execution-id>')
    .option('--json', 'print the API answer as JSON')
    .action(async (id: string, opts: Flags) => {
      const { api } = ctx.client();
      await print(ctx, api.POST('/api/v1/workflows/{id}/resume', run(id)), opts, (a) => `run ${id} ${a.status}`);
    });
}

/** `approve`, `reject`. */
function registerApprovals(program: Command, ctx: CommandContext): void {
  program
    .command('approve')
    .description('approve an approval task; the payload becomes its output')
    .argument('<execution-id>')
    .argument('<task>')
    .option('--payload <json>', 'the task output, as JSON')
    .option('--by <name>', 'who approves, for the record')
    .option('--json', 'print the API answer as JSON')
    .action(async (id: string, task: string, opts: { payload?: string; by?: string } & Flags) => {
      const body: RequestBody<'approveTask'> = {};
      if (opts.payload !== undefined) body.payload = jsonOption('--payload', opts.payload);
      if (opts.by) body.by = opts.by;
      const { api } = ctx.client();
      const params = { path: { id, task } };
      await print(ctx, api.POST('/api/v1/workflows/{id}/tasks/{task}/approve', { params, body }), opts, () =>
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
      const body: RequestBody<'rejectTask'> = {};
      if (opts.reason !== undefined) body.reason = opts.reason;
      if (opts.by) body.by = opts.by;
      const { api } = ctx.client();
      const params = { path: { id, task } };
      await print(ctx, api.POST('/api/v1/workflows/{id}/tasks/{task}/reject', { params, body }), opts, () =>
        decided('rejected', task, id, opts.by),
      );
    });
}

const run = (id: string) => ({ params: { path: { id } } });

/** A call whose answer is printed as JSON with --json, else as `line(answer)`. */
async function print<D, E>(
  ctx: CommandContext,
  pending: Promise<{ data?: D; error?: E; response: Response }>,
  opts: Flags,
  line: (answer: D, status: number) => string,
): Promise<D> {
  const answer = await ctx.client().call(pending);
  if (opts.json) printJson(ctx.io, answer.body);
  else ctx.io.out(line(answer.body, answer.status));
  return answer.body;
}

function decided(what: string, task: string, id: string, by?: string): string {
  return `${what} task ${task} of run ${id}${by ? ` (by ${by})` : ''}`;
}

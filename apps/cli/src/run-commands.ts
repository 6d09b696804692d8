import type { AnyExecutionEvent, RequestBody, SubmitResult } from '@orch/api-client';
import { EXECUTION_STATUSES, isFinalEvent } from '@orch/run-model';
import { type Command, Option } from 'commander';
import { runPath } from './api-client';
import { type CommandContext, collectVar, exitCodeFor, type Flags, printJson } from './cli-io';
import { runRequest } from './documents';
import { printList, printOutcome, printStatus } from './run-format';
import { watchRun } from './run-watch';
import { followSse } from './sse-reader';
import { printTaskLogs, type TaskLogOptions } from './task-log-command';

/** `logs` without --follow stops once the stream has been quiet this long: the replay of past events is over. */
const QUIET_MS = 500;

const STATUSES = EXECUTION_STATUSES;

/** `run`, `status`, `list`, `logs`: starting runs and reading them through the REST API. */
export function registerRunCommands(program: Command, ctx: CommandContext): void {
  registerStartCommands(program, ctx);
  registerReadCommands(program, ctx);
}

/** `run` and `status`. */
function registerStartCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;

  program
    .command('run')
    .description('start a run of a catalog template (by id) or of a workflow or template file; --watch follows it')
    .argument('<template-id|file>', 'a template id of the API catalog, or a .yaml/.json workflow or template')
    .option('--var <key=value>', 'a variable (repeatable)', collectVar, {} as Record<string, string>)
    .option('--correlation-id <id>', 'an idempotency key: the same id within EXECUTION_TTL returns the same run')
    .option(
      '--target <task>',
      'run only this task and what it depends on (repeatable; the others are skipped, "not targeted")',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--watch',
      'follow the run until it ends; the exit code is its outcome (0, 1 failed, 2 cancelled/timed out)',
    )
    .option(
      '--wait <duration>',
      'one request that answers when the run ends within the duration (e.g. 30s; at most ORCHESTRATOR_MAX_WAIT): ' +
        'prints the outcome, exit code as --watch; otherwise as without it (or --watch follows it from there)',
    )
    .option('--json', 'print the API answer (with --watch or a --wait that saw the end: the final record) as JSON')
    .action(
      async (
        source: string,
        opts: { var: Record<string, string>; correlationId?: string; target: string[]; wait?: string } & Flags,
      ) => {
        const body: RequestBody<'submitWorkflow'> = await runRequest(source, opts.var);
        if (opts.correlationId) body.correlation_id = opts.correlationId;
        if (opts.target.length > 0) body.targets = opts.target;
        const client = ctx.client();
        const query = opts.wait === undefined ? {} : { wait: opts.wait };
        const run = (await client.call(client.api.POST('/api/v1/workflows', { body, params: { query } }))).body;
        if (run.record) {
          if (opts.json) printJson(io, run.record);
          else printOutcome(io, run.record);
          ctx.exit(exitCodeFor(run.record.status));
          return;
        }
        if (opts.watch) {
          if (!opts.json) io.out(startedLine(run));
          ctx.exit(await watchRun(client, io, run.execution_id, { json: opts.json }));
          return;
        }
        if (opts.json) printJson(io, run);
        else {
          io.out(startedLine(run));
          io.out(
            `follow it: orchestrator status ${run.execution_id}   (or: orchestrator logs ${run.execution_id} --follow)`,
          );
        }
      },
    );

  program
    .command('status')
    .description('the state of a run: status, progress, tasks with attempts and timings, what it waits on')
    .argument('<execution-id>')
    .option('--outputs', 'include every task output (reads the full record)')
    .option('--watch', 'follow the run until it ends, as `run --watch` does')
    .option('--json', 'print the record as JSON')
    .action(async (id: string, opts: { outputs?: boolean } & Flags) => {
      const client = ctx.client();
      if (opts.watch) {
        ctx.exit(await watchRun(client, io, id, { json: opts.json }));
        return;
      }
      const path = { params: { path: { id } } };
      const record = opts.outputs
        ? (await client.call(client.api.GET('/api/v1/workflows/{id}', path))).body
        : (await client.call(client.api.GET('/api/v1/workflows/{id}/status', path))).body;
      if (opts.json) printJson(io, record);
      else printStatus(io, record, { outputs: opts.outputs });
    });
}

/** `list` and `logs`. */
function registerReadCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;

  program
    .command('list')
    .description('runs, newest first')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(STATUSES))
    .option('--template <id>', 'only runs of this template')
    .option('--limit <n>', 'runs per page (1 to 200)', '20')
    .option('--cursor <cursor>', 'the next page, as printed after the last one')
    .option('--json', 'print the page as JSON ({items, next_cursor, links})')
    .action(async (opts: { status?: string; template?: string; limit: string; cursor?: string } & Flags) => {
      const query = {
        status: opts.status as (typeof STATUSES)[number] | undefined,
        template: opts.template,
        // Not checked here: the API says what is wrong with a limit (an integer from 1 to 200).
        limit: Number(opts.limit),
        cursor: opts.cursor,
      };
      const client = ctx.client();
      const page = (await client.call(client.api.GET('/api/v1/workflows', { params: { query } }))).body;
      if (opts.json) {
        printJson(io, page);
        return;
      }
      printList(io, page);
      if (page.next_cursor) {
        const filters = `${opts.status ? ` --status ${opts.status}` : ''}${opts.template ? ` --template ${opts.template}` : ''}`;
        io.out(`more: orchestrator list${filters} --limit ${opts.limit} --cursor ${page.next_cursor}`);
      }
    });

  program
    .command('logs')
    .description(
      "a task's log (its handler's lines, its command's stdout and stderr), or without a task the run's event stream; --follow until it ends",
    )
    .argument('<execution-id>')
    .argument('[task]', "a task id (a parallel task's item: task[index]): print its latest attempt's log")
    .option('-f, --follow', 'keep following until the run (with a task: the attempt) ends')
    .option('--attempt <n>', 'with a task: this attempt (1 for the first) instead of the latest')
    .option('--json', 'one JSON event (with a task: log line) per line (NDJSON)')
    .action(async (id: string, task: string | undefined, opts: TaskLogOptions & Flags) => {
      if (task !== undefined) {
        await printTaskLogs(ctx, id, task, opts);
        return;
      }
      const startedAt = Date.now();
      const stream = followSse({
        client: ctx.client(),
        path: runPath(id, '/events'),
        signal: io.signal,
        idleMs: opts.follow ? undefined : QUIET_MS,
        isFinal: (m) => isFinalEvent(m.event),
      });
      for await (const message of stream) {
        const event = JSON.parse(message.data) as AnyExecutionEvent;
        // Without --follow, a busy run never goes quiet: stop at the first event that happened after the command.
        if (!opts.follow && Date.parse(event.at) > startedAt) break;
        io.out(opts.json ? JSON.stringify(event) : eventLine(event));
      }
    });
}

function startedLine(run: SubmitResult): string {
  if (run.created === false) {
    return `run ${run.execution_id} already exists for correlation id ${run.correlation_id} (${run.status})`;
  }
  return `run ${run.execution_id} started (${run.status})`;
}

/** `2026-11-26T11:40:16.794Z  task.completed  graph_traversal  attempt 1  on worker-1  error` */
export function eventLine(event: AnyExecutionEvent): string {
  const parts = [event.at, event.type];
  if (event.task) parts.push(event.task);
  if (event.attempt) parts.push(`attempt ${event.attempt}`);
  if (event.item !== undefined) parts.push(`item ${event.item}`);
  if (event.worker) parts.push(`on ${event.worker}`);
  if (event.status) parts.push(event.status);
  if (event.reason) parts.push(`(${event.reason})`);
  if (event.error) parts.push(event.error);
  return parts.join('  ');
}

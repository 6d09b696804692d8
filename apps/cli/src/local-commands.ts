import { loadConfig } from '@orch/config';
import { planWorkflow } from '@orch/core';
import { TemplateCatalog } from '@orch/templates';
import { type Command, InvalidArgumentError } from 'commander';
import { type CommandContext, collectVar } from './cli-io';
import { prepareLocal, validateFile } from './documents';
import { startStack } from './service-stack';
import type { StackRedisInfo } from './stack-redis';

/**
 * Commands that need no running service: `validate`, `templates` and `plan` read files and the local catalog
 * (ORCHESTRATOR_TEMPLATES), so they work offline and in CI; `up` starts the whole service.
 */
export function registerLocalCommands(program: Command, ctx: CommandContext): void {
  registerOfflineCommands(program, ctx);
  registerUpCommand(program, ctx);
}

/** `validate`, `templates`, `plan`: offline. */
function registerOfflineCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;

  program
    .command('validate')
    .description('check a template or workflow file (YAML or JSON) offline; exit 1 when it has errors')
    .argument('<file>')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { kind, errors } = await validateFile(file);
      if (opts.json) io.out(JSON.stringify({ file, kind, valid: errors.length === 0, errors }, null, 2));
      else if (errors.length === 0) io.out(`${file}: valid ${kind}`);
      else {
        io.err(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}`);
        for (const e of errors) io.err(`  ${e.pointer || '/'}: ${e.message}`);
      }
      ctx.exit(errors.length === 0 ? 0 : 1);
    });

  program
    .command('templates')
    .description('list the local template catalog offline (ORCHESTRATOR_TEMPLATES, default ./templates)')
    .option('--json', 'print the catalog as JSON')
    .action(async (opts: { json?: boolean }) => {
      const catalog = await TemplateCatalog.load(loadConfig(io.env).templatesDir);
      if (opts.json) io.out(JSON.stringify({ templates: catalog.list(), problems: catalog.problems }, null, 2));
      else {
        io.out(`${catalog.size} template${catalog.size === 1 ? '' : 's'} in ${catalog.dir}`);
        for (const t of catalog.list()) {
          const vars = t.variables.map((v) => `${v.name}${v.required ? '*' : ''}:${v.type ?? 'any'}`).join(', ');
          io.out(`  ${t.id}@${t.version ?? '-'}  ${t.name}  (${t.tasks} tasks${vars ? `; variables ${vars}` : ''})`);
        }
        for (const p of catalog.problems) {
          io.err(`skipped ${p.path}:`);
          for (const e of p.errors) io.err(`  ${e.pointer || '/'}: ${e.message}`);
        }
      }
      ctx.exit(0);
    });

  program
    .command('plan')
    .description('print the execution order (levels) of a template or workflow offline, without running it')
    .argument('<file-or-template-id>')
    .option('--var <key=value>', 'a variable (repeatable)', collectVar, {} as Record<string, string>)
    .option('--json', 'print the plan as JSON')
    .action(async (source: string, opts: { var: Record<string, string>; json?: boolean }) => {
      const prepared = await prepareLocal(source, opts.var, io);
      const plan = planWorkflow(prepared);
      if (opts.json) {
        io.out(JSON.stringify({ workflow: prepared.workflow.id, variables: prepared.variables, ...plan }, null, 2));
        return;
      }
      const tasks = plan.levels.reduce((n, l) => n + l.length, 0);
      io.out(
        `plan for ${prepared.template?.id ?? prepared.workflow.id}: ${tasks} tasks, ${plan.depth} levels, width ${plan.width}`,
      );
      io.out(`critical path (by timeouts): ${plan.critical_path.join(' -> ')} = ${plan.critical_path_ms / 1000}s`);
      plan.levels.forEach((level, i) => {
        io.out(`level ${i}`);
        for (const t of level) {
          const after = t.depends_on.length ? ` after ${t.depends_on.join(', ')}` : '';
          io.out(`  ${t.id} [${t.type}]${after}`);
          if (t.condition) io.out(`    condition: ${t.condition}`);
          io.out(`    ${JSON.stringify(t.parameters)}`);
        }
      });
    });
}

/** `up`: the whole service, locally. */
function registerUpCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;

  program
    .command('up')
    .description('run the whole service: API, a worker and the service stand-ins (and Redis when none answers)')
    .option(
      '--cluster',
      'run on a private local Redis Cluster (data in $ORCHESTRATOR_WORKSPACE/redis-cluster), passing REDIS_CLUSTER_NODES and ORCHESTRATOR_PARTITIONS (default 16) to every process',
    )
    .option('--primaries <n>', 'with --cluster: how many primaries', primaryCount, 3)
    .option('--replicas <n>', 'with --cluster: replicas per primary', replicaCount, 1)
    .action(async (opts: { cluster?: boolean; primaries: number; replicas: number }) => {
      const cluster = opts.cluster ? { primaries: opts.primaries, replicas: opts.replicas } : undefined;
      const stack = await startStack({ env: io.env, log: io.out, ...(cluster ? { cluster } : {}) });
      io.out(`API             ${stack.apiUrl}/api/v1`);
      io.out(`API docs        ${stack.apiUrl}/docs`);
      io.out(`Web view        ${stack.apiUrl}/ui/`);
      io.out(`Bull Board      ${stack.apiUrl}/admin/queues`);
      io.out(`Worker metrics  ${stack.workerMetricsUrl}`);
      io.out(redisBanner(stack.redis, io.env));
      io.out('press Ctrl+C to stop');
      const signal = await Promise.race([
        stack.exited.then(() => 'exit'),
        new Promise<string>((done) => {
          process.once('SIGINT', () => done('SIGINT'));
          process.once('SIGTERM', () => done('SIGTERM'));
        }),
      ]);
      io.out(`stopping (${signal})`);
      await stack.stop();
      ctx.exit(signal === 'exit' ? 1 : 0);
    });
}

/** The banner's Redis line: where it is and how to look at it. */
function redisBanner(redis: StackRedisInfo, env: Readonly<Record<string, string | undefined>>): string {
  const { host, port } = redis;
  if (redis.cluster) {
    const mine = redis.private ? ' (private)' : '';
    return `Redis Cluster   ${redis.cluster.spec}${mine}   redis-cli -c -h ${host} -p ${port}`;
  }
  if (env.REDIS_URL) return 'Redis           REDIS_URL';
  return `Redis           ${host}:${port}${redis.private ? ' (private)' : ''}   redis-cli -h ${host} -p ${port}`;
}

/** redis-cli --cluster create needs at least 3 primaries (a majority must be able to vote a failover). */
function primaryCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 3 || n > 100) throw new InvalidArgumentError('must be a whole number 3..100');
  return n;
}

function replicaCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new InvalidArgumentError('must be a whole number 0..10');
  return n;
}

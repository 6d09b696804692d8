import { readFile } from 'node:fs/promises';
import { loadConfig } from '@orch/config';
import {
  type PreparedWorkflow,
  planWorkflow,
  prepareFromTemplate,
  prepareInline,
  type TemplateDefinition,
  validateTemplate,
  validateWorkflow,
} from '@orch/core';
import { type ErrorDetail, ValidationError } from '@orch/errors';
import { parseDocument, TemplateCatalog } from '@orch/templates';
import { Command, CommanderError } from 'commander';
import { startStack } from './service-stack';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** Runs one command line (without `node main.js`) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('orchestrator')
    .description('Orchestrator: DAG workflows on BullMQ and Redis')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('validate')
    .description('check a template or workflow file (YAML or JSON); exit 1 when it has errors')
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
      exitCode = errors.length === 0 ? 0 : 1;
    });

  program
    .command('templates')
    .description('list the template catalog (ORCHESTRATOR_TEMPLATES, default ./templates)')
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
      exitCode = 0;
    });

  program
    .command('plan')
    .description('print the execution order (levels) of a template or workflow without running it')
    .argument('<file-or-template-id>')
    .option('--var <key=value>', 'a variable (repeatable)', collectVar, {} as Record<string, string>)
    .option('--json', 'print the plan as JSON')
    .action(async (source: string, opts: { var: Record<string, string>; json?: boolean }) => {
      const prepared = await prepare(source, opts.var, io);
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

  program
    .command('up')
    .description('run the whole service: API, a worker and the service stand-ins (and Redis when none answers)')
    .action(async () => {
      const stack = await startStack({ env: io.env, log: io.out });
      io.out(`API          ${stack.apiUrl}/api/v1`);
      io.out(`API docs     ${stack.apiUrl}/docs`);
      io.out(`Bull Board   ${stack.apiUrl}/admin/queues`);
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
      exitCode = signal === 'exit' ? 1 : 0;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ValidationError) io.err(error.describe());
    else io.err(`error: ${(error as Error).message}`);
    return 1;
  }
}

function collectVar(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new ValidationError(`--var takes key=value; got '${value}'`, []);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

async function readDocument(file: string): Promise<{ value: unknown; errors: ErrorDetail[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { value: undefined, errors: [{ pointer: '', message: `cannot read ${file}: ${(error as Error).message}` }] };
  }
  return parseDocument(text);
}

function isTemplate(value: unknown): value is TemplateDefinition {
  return !!value && typeof value === 'object' && 'workflow' in value;
}

async function validateFile(file: string): Promise<{ kind: string; errors: ErrorDetail[] }> {
  const doc = await readDocument(file);
  if (doc.errors.length > 0) return { kind: 'document', errors: doc.errors };
  if (isTemplate(doc.value)) return { kind: 'template', errors: validateTemplate(doc.value).errors };
  return { kind: 'workflow', errors: validateWorkflow(doc.value).errors };
}

async function prepare(source: string, vars: Record<string, string>, io: CliIo): Promise<PreparedWorkflow> {
  if (/\.(ya?ml|json)$/i.test(source)) {
    const doc = await readDocument(source);
    if (doc.errors.length > 0) throw new ValidationError(`${source} is not valid YAML or JSON`, doc.errors);
    return isTemplate(doc.value) ? prepareFromTemplate(doc.value, vars) : prepareInline(doc.value, vars, '');
  }
  const catalog = await TemplateCatalog.load(loadConfig(io.env).templatesDir);
  return prepareFromTemplate(catalog.get(source), vars);
}

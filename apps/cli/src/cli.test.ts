import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_VERSION, createProgram, runCli } from './cli';
import { commandPaths, EXAMPLES } from './help-examples';

const TEMPLATES = join(__dirname, '../../../templates');

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { ORCHESTRATOR_TEMPLATES: TEMPLATES },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'orch-cli-')), name);
  writeFileSync(path, text);
  return path;
}

describe('orchestrator CLI', () => {
  it('validate exits 0 on a valid template', async () => {
    const result = await run('validate', join(TEMPLATES, 'data-analysis-basic.yaml'));
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/data-analysis-basic\.yaml: valid template$/);
  });

  it('validate prints every error with its pointer and exits 1', async () => {
    const path = file(
      'wf.yaml',
      'id: w\ntasks:\n  - {id: a, type: transform, parameters: {output: "${b.output}"}}\n  - {id: b, type: sleep}\n',
    );
    const result = await run('validate', path);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      [
        `${path}: 2 errors`,
        "  /tasks/1/type: unknown task type 'sleep'; known types: data, ai, exec, http, parallel, condition, transform, workflow, approval, delay",
        "  /tasks/0/parameters/output: task 'a' reads the output of 'b' but does not depend on it; add 'b' to depends_on",
      ].join('\n'),
    );
  });

  it('validate --json reports the result as data', async () => {
    const path = file('bad.json', '{"id": "w", "tasks": [{"id": "a", "type": "delay", "parameters": {}}]}');
    const result = await run('validate', path, '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out)).toEqual({
      file: path,
      kind: 'workflow',
      valid: false,
      errors: [{ pointer: '/tasks/0/parameters/duration', message: 'is required' }],
    });
  });

  it('validate reports YAML syntax errors with a line', async () => {
    const result = await run('validate', file('x.yaml', 'id: [\n'));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/\/: line \d+, column \d+: /);
  });

  it('templates lists the catalog', async () => {
    const result = await run('templates');
    expect(result.code).toBe(0);
    expect(result.out).toContain('2 templates in');
    expect(result.out).toContain(
      'data-analysis-basic@1.0  Data Analysis Pipeline  (6 tasks; variables query_limit:integer',
    );
    expect(result.out).toContain('ai-content-pipeline@1.0  AI Content Pipeline  (8 tasks; variables topic*:string');
  });

  it('plan prints levels with variables resolved', async () => {
    const result = await run('plan', 'data-analysis-basic', '--var', 'query_limit=7');
    expect(result.code).toBe(0);
    expect(result.out).toContain('plan for data-analysis-basic: 6 tasks, 5 levels, width 2');
    expect(result.out).toContain('level 0\n  graph_traversal [data]');
    expect(result.out).toContain('LIMIT 7');
    expect(result.out).toContain('level 4\n  generate_report [transform] after ai_analysis, process_data');
  });

  it('plan refuses bad variables with pointers', async () => {
    const result = await run('plan', 'ai-content-pipeline', '--var', 'min_quality=high');
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      [
        "variables do not fit template 'ai-content-pipeline'",
        "  /variables/topic: variable 'topic' is required (What the article is about)",
        '  /variables/min_quality: variable \'min_quality\' must be a number; got "high"',
      ].join('\n'),
    );
  });

  it('plan names an unknown template', async () => {
    const result = await run('plan', 'nope');
    expect(result).toMatchObject({ code: 1, err: "error: template 'nope' was not found" });
  });
});

describe('orchestrator --version and --help', () => {
  it('prints the version', async () => {
    expect(CLI_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-v']) {
      expect(await run(flag)).toEqual({ code: 0, out: `orchestrator ${CLI_VERSION}`, err: '' });
    }
  });

  it('ends the help of the program and of every command with examples', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    expect(top.out).toContain('-v, --version');
    expect(top.out).toContain('Examples:\n  $ orchestrator up');
    expect(top.out).toContain('  $ orchestrator run data-analysis-basic --var query_limit=50 --watch');
    const run_ = await run('run', '--help');
    expect(run_.out).toMatch(/Examples:\n {2}\$ orchestrator run data-analysis-basic --var query_limit=50 --watch\n/);
    const create = await run('schedule', 'create', '--help');
    expect(create.out).toContain('$ orchestrator schedule create nightly "0 3 * * *" data-analysis-basic');
    const paths = commandPaths(createProgram({ out: () => undefined, err: () => undefined, env: {} }, () => undefined));
    const missing = paths.map(([path]) => path).filter((path) => !EXAMPLES[path]?.length);
    expect(missing).toEqual([]);
    expect(Object.keys(EXAMPLES).filter((k) => k && !paths.some(([p]) => p === k))).toEqual([]);
  });

  it('gives examples that parse: known commands, options and enough arguments', async () => {
    for (const [path, lines] of Object.entries(EXAMPLES)) {
      for (const line of lines) {
        const argv = words(line);
        const program = createProgram({ out: () => undefined, err: () => undefined, env: {} }, () => undefined);
        // Parse only: every action is replaced, so nothing runs.
        for (const [, command] of commandPaths(program)) command.action(() => undefined);
        await expect(program.parseAsync(argv, { from: 'user' })).resolves.toBe(program);
        expect([path, argv.slice(0, path ? path.split(' ').length : 1)]).toEqual([
          path,
          path ? path.split(' ') : [argv[0]],
        ]);
      }
    }
  });
});

/** An example line as argv: without `orchestrator`, leading VAR=value settings and a `# comment`; quotes honoured. */
function words(line: string): string[] {
  const text = line.replace(/\s+#[^"']*$/, '');
  const found: string[] = [];
  let word: string | undefined;
  let quote = '';
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = '';
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) found.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) found.push(word);
  while (found.length && /^[A-Z_]+=/.test(found[0] as string)) found.shift();
  expect(found.shift()).toBe('orchestrator');
  return found.map((w) => (w === '<execution-id>' ? '0b7c3f0e-6a57-4f0e-9d1b-2f1f3c9a8e21' : w));
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli';

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
        "  /tasks/1/type: unknown task type 'sleep'; known types: data, ai, exec, parallel, condition, transform, workflow, approval, delay",
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

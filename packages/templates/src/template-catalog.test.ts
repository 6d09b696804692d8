import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planWorkflow, prepareFromTemplate, validateTemplate } from '@orch/core';
import { parseDocument } from './parse-document';
import { TemplateCatalog } from './template-catalog';

const BUILT_IN = join(__dirname, '../../../templates');

/** The "Template Structure" example of the reference, verbatim. */
const REFERENCE_EXAMPLE = `id: my-workflow
name: My Custom Workflow
description: Description of what this workflow does
category: data-science
version: "1.0"
variables:
  - name: input_param
    type: string
    description: Parameter description
    required: true
    default: "default_value"

workflow:
  id: my-workflow-execution
  name: My Workflow Execution
  timeout: 3600
  variables:
    input_param: \${input_param}
  
  tasks:
    - id: task1
      name: First Task
      type: data
      parameters:
        operation: traverse
        query:
          cypher: "MATCH (n) RETURN n LIMIT \${input_param}"
      retry_policy:
        max_retries: 2
        backoff_type: exponential
        initial_delay: 1s
      timeout: 60
      
    - id: task2
      name: Second Task  
      type: ai
      depends_on: ["task1"]
      parameters:
        provider: anthropic
        prompt: "Analyze this data: \${task1.output}"
        response_format: json
      timeout: 120
`;

describe('the reference example template', () => {
  it('loads verbatim and validates', () => {
    const { value, errors } = parseDocument(REFERENCE_EXAMPLE);
    expect(errors).toEqual([]);
    expect(validateTemplate(value).errors).toEqual([]);
  });

  it('plans with its default variable', () => {
    const prepared = prepareFromTemplate(parseDocument(REFERENCE_EXAMPLE).value as never);
    const plan = planWorkflow(prepared);
    expect(plan.levels.map((l) => l.map((t) => t.id))).toEqual([['task1'], ['task2']]);
    expect(plan.levels[0]?.[0]?.parameters).toEqual({
      operation: 'traverse',
      query: { cypher: 'MATCH (n) RETURN n LIMIT default_value' },
    });
    expect(plan.levels[1]?.[0]?.parameters).toMatchObject({ prompt: 'Analyze this data: ${task1.output}' });
    expect(plan.critical_path_ms).toBe(180_000);
  });
});

describe('TemplateCatalog', () => {
  it('loads both built-in templates', async () => {
    const catalog = await TemplateCatalog.load(BUILT_IN);
    expect(catalog.problems).toEqual([]);
    expect(catalog.list().map((t) => t.id)).toEqual(['ai-content-pipeline', 'data-analysis-basic']);
  });

  it('gives data-analysis-basic the stages of the reference', async () => {
    const template = (await TemplateCatalog.load(BUILT_IN)).get('data-analysis-basic');
    const plan = planWorkflow(
      prepareFromTemplate(template, { query_limit: '50', analysis_prompt: 'Identify key trends in the data' }),
    );
    expect(plan.levels.map((l) => l.map((t) => t.id))).toEqual([
      ['graph_traversal', 'vector_search'],
      ['combine_data'],
      ['process_data'],
      ['ai_analysis'],
      ['generate_report'],
    ]);
    expect(plan.levels[0]?.[0]?.parameters).toMatchObject({
      query: { cypher: 'MATCH (n)-[r]->(m) RETURN n, r, m LIMIT 50' },
    });
  });

  it('gives ai-content-pipeline a quality gate with two branches', async () => {
    const template = (await TemplateCatalog.load(BUILT_IN)).get('ai-content-pipeline');
    const plan = planWorkflow(prepareFromTemplate(template, { topic: 'Redis streams' }));
    expect(plan.levels.map((l) => l.map((t) => t.id))).toEqual([
      ['outline'],
      ['draft'],
      ['review', 'seo_analysis'],
      ['optimize'],
      ['quality_gate'],
      ['package', 'flag_for_review'],
    ]);
  });

  it('skips a broken file, reporting its path and errors, and keeps the good ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-tpl-'));
    writeFileSync(
      join(dir, 'good.yaml'),
      'id: good\nname: Good\nworkflow:\n  id: g\n  tasks:\n    - {id: a, type: transform, parameters: {output: 1}}\n',
    );
    writeFileSync(
      join(dir, 'bad.yaml'),
      'id: bad\nname: Bad\nworkflow:\n  id: b\n  tasks:\n    - {id: a, type: teleport}\n',
    );
    writeFileSync(join(dir, 'broken.yml'), 'id: [unclosed\n');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const catalog = await TemplateCatalog.load(dir);
    expect(catalog.list().map((t) => t.id)).toEqual(['good']);
    expect(catalog.problems).toEqual([
      {
        path: join(dir, 'bad.yaml'),
        errors: [
          { pointer: '/workflow/tasks/0/type', message: expect.stringContaining("unknown task type 'teleport'") },
        ],
      },
      {
        path: join(dir, 'broken.yml'),
        errors: [expect.objectContaining({ message: expect.stringMatching(/^line \d+, column \d+: /) })],
      },
    ]);
    expect(() => catalog.get('bad')).toThrow("template 'bad' was not found");
  });

  it('keeps every version: a bare id is the newest, id@version pins one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-tpl-'));
    const doc = (version: string, output: string) =>
      `id: greet\nname: Greet\nversion: "${version}"\nworkflow:\n  id: g\n  tasks:\n    - {id: a, type: transform, parameters: {output: ${output}}}\n`;
    writeFileSync(join(dir, 'greet-1.yaml'), doc('1.9', 'old'));
    writeFileSync(join(dir, 'greet-2.yaml'), doc('1.10', 'new'));
    writeFileSync(join(dir, 'greet-3.yaml'), doc('1.9', 'clash'));
    const catalog = await TemplateCatalog.load(dir);
    expect(catalog.versions('greet')).toEqual(['1.10', '1.9']);
    expect(catalog.get('greet').version).toBe('1.10');
    expect(catalog.get('greet@1.9').workflow.tasks[0]?.parameters).toEqual({ output: 'old' });
    expect(catalog.list()).toMatchObject([{ id: 'greet', version: '1.10', versions: ['1.10', '1.9'] }]);
    expect(catalog.listVersions('greet').map((t) => t.version)).toEqual(['1.10', '1.9']);
    expect(() => catalog.get('greet@2.0')).toThrow("template 'greet' has no version 2.0; versions: 1.10, 1.9");
    expect(catalog.problems).toEqual([
      {
        path: join(dir, 'greet-3.yaml'),
        errors: [
          {
            pointer: '/version',
            message: `template 'greet' version 1.9 is already defined in ${join(dir, 'greet-1.yaml')}`,
          },
        ],
      },
    ]);
  });

  it('reports a missing directory as a problem, not a crash', async () => {
    const catalog = await TemplateCatalog.load('/nonexistent/templates');
    expect(catalog.size).toBe(0);
    expect(catalog.problems[0]?.errors[0]?.message).toMatch(/^cannot read template directory/);
  });
});

import { anyValue, bool, count, executionStatus, int, nullable, object, ref, str, strings, time } from './parts';

/** Response schemas of the catalog: templates, versions, validation and generation. */

const variable = object(
  { name: str, type: str, required: bool, description: str, default: anyValue('The default value') },
  ['type', 'description', 'default'],
);

const templateSummary = {
  id: str,
  versions: { ...strings, description: 'Every version the catalog holds, newest first' },
  name: str,
  description: str,
  category: str,
  version: str,
  tasks: { ...count, description: 'How many tasks its workflow has' },
  variables: { type: 'array', items: variable },
};
const summaryOptional = ['description', 'category', 'version'];

const planErrors = { type: 'array', items: ref('ErrorDetail') } as const;

const dryRunTask = object(
  {
    status: { type: 'string', enum: ['completed', 'skipped', 'failed'] },
    output: anyValue('The simulated output'),
    error: str,
  },
  ['output', 'error'],
);

export const CATALOG_SCHEMAS = {
  TemplateSummary: object(templateSummary, summaryOptional, 'One template of the catalog (its newest version)'),
  TemplateList: object({ templates: { type: 'array', items: ref('TemplateSummary') }, count }),
  TemplateVersions: object({ id: str, versions: { type: 'array', items: ref('TemplateSummary') } }),
  PlannedTask: object(
    {
      id: str,
      type: str,
      depends_on: strings,
      parameters: anyValue('Its parameters, with every expression that reads only variables resolved'),
      condition: str,
    },
    ['condition'],
  ),
  Plan: object(
    {
      levels: {
        type: 'array',
        items: { type: 'array', items: ref('PlannedTask') },
        description: 'Tasks in execution order: each level after the one before',
      },
      depth: count,
      width: count,
      critical_path: strings,
      critical_path_ms: { type: 'number', minimum: 0 },
    },
    [],
    'How the workflow would run',
  ),
  ValidateResult: {
    description: '`valid: true` with the plan, or `valid: false` with every problem',
    oneOf: [
      object({ valid: { const: true }, plan: ref('Plan') }),
      object({ valid: { const: false }, message: str, errors: planErrors }),
    ],
  },
  DryRun: object(
    {
      tasks: { type: 'object', additionalProperties: dryRunTask, description: 'By task id' },
      branches: {
        type: 'array',
        items: object({ task: str, result: bool, taken: strings, skipped: strings }),
      },
      errors: { type: 'array', items: object({ task: str, pointer: str, message: str }) },
    },
    [],
    'The workflow simulated with mock service outputs',
  ),
  GenerateResult: object(
    {
      workflow: {
        anyOf: [ref('Workflow'), { type: 'object', additionalProperties: true }, { type: 'null' }],
        description: 'The last candidate: a Workflow when `valid`; null when no reply parsed as JSON',
      },
      valid: bool,
      errors: planErrors,
      attempts: int,
      model: str,
      usage: object({ prompt_tokens: count, completion_tokens: count }),
      plan: { oneOf: [ref('Plan'), { type: 'null' }] },
      provenance: object({
        prompt: str,
        domain: nullable('string'),
        complexity: { type: 'string', enum: ['low', 'medium', 'high'] },
        required_services: strings,
        model: str,
        attempts: count,
        verdicts: { type: 'array', items: object({ attempt: count, valid: bool, errors: planErrors }) },
        generated_at: time,
      }),
      dry_run: ref('DryRun'),
      saved_as: object({
        id: str,
        version: str,
        path: { type: 'string', description: 'The file name in the catalog' },
      }),
      execution: object({ execution_id: str, status: executionStatus, links: ref('ExecutionLinks') }),
    },
    ['dry_run', 'saved_as', 'execution'],
  ),
} as const;

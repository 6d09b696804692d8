import {
  DURATION_HINT,
  SUB_TASK_TYPES,
  TASK_CATALOG,
  TASK_TYPES,
  type TaskType,
  type TemplateDefinition,
  TRIGGER_RULES,
  type VariableDefinition,
  validateWorkflow,
  type WorkflowDefinition,
} from '@orch/core';
import type { ErrorDetail } from '@orch/errors';
import { BUILTIN_FUNCTION_NAMES, resolveValue } from '@orch/expressions';
import { toModelSchema } from './generation-schema';
import { type Complexity, SERVICE_TYPES, type ServiceType } from './generation-types';

/** At most this many templates go into the prompt: examples teach the format, more only cost tokens. */
export const MAX_EXAMPLES = 3;

const SIZE_HINT: Record<Complexity, string> = {
  low: 'about 2 to 4 tasks, a straight line',
  medium: 'about 4 to 8 tasks, with some independent branches',
  high: 'about 8 to 15 tasks; use parallel and condition tasks where they help',
};

const SERVICE_DESCRIPTION: Record<ServiceType, string> = {
  data: 'data-abstractor: graph traversal, vector search, enrichment',
  ai: 'ai-abstractor: language model calls',
  exec: 'exec-agent: commands in containers',
};

/** What `${id.output}` holds for each type; the dry run's mocks have the same shapes. */
const OUTPUT_SHAPES = [
  'data: {rows: [...], matches: [...], count}',
  'ai: {text, json (the parsed reply when response_format is json), model, usage}',
  'exec: {exit_code, stdout, stderr, files, json (stdout parsed, when it is JSON)}',
  'transform: the value of parameters.output, evaluated',
  'condition: {result (true or false), value (what the condition evaluated to)}',
  'parallel: a list with one output per sub-task',
];

/**
 * The task types a request may use: the services it allows, plus the types that call no service. Never `http`: a
 * generated workflow calls no URL a model made up.
 */
export function allowedTaskTypes(services: readonly ServiceType[]): TaskType[] {
  return TASK_TYPES.filter(
    (t) => t !== 'http' && (!(SERVICE_TYPES as readonly string[]).includes(t) || services.includes(t as never)),
  );
}

export function buildSystemPrompt(services: readonly ServiceType[], templates: readonly TemplateDefinition[]): string {
  const allowed = allowedTaskTypes(services);
  const banned = SERVICE_TYPES.filter((s) => !services.includes(s));
  const catalog = allowed.map(
    (type) =>
      `- ${type}: ${TASK_CATALOG[type].description}\n  parameters: ${JSON.stringify(toModelSchema(TASK_CATALOG[type].schema))}`,
  );
  const subTypes = SUB_TASK_TYPES.filter((t) => allowed.includes(t));
  const sections = [
    'You design workflows for Orchestrator, a DAG workflow engine. Reply with exactly one JSON object, the ' +
      'workflow document, and nothing else: no prose, no Markdown fences.',
    section('Workflow document', [
      'Workflow fields: id (required), name, description, timeout, variables (an object of name -> literal value), ' +
        'tasks (required, non-empty list), fail_fast (boolean), recovery {strategy: resume | restart | fail}.',
      'Task fields: id (required; letters, digits and _, not starting with a digit), name, description, ' +
        'type (required), depends_on (list of task ids), parameters (by type, below), retry_policy {max_retries, ' +
        'backoff_type: fixed | exponential, initial_delay, max_delay, jitter (0 to 1)}, timeout, condition, ' +
        `on_success, on_failure, continue_on_failure (boolean), trigger_rule (${TRIGGER_RULES.join(' | ')}).`,
      `Durations (timeout, initial_delay, max_delay, delay's duration) are ${DURATION_HINT}.`,
      'No other fields are allowed, anywhere: an unknown field is an error.',
    ]),
    section('Task types you may use', [
      ...catalog,
      banned.length > 0
        ? `Not available for this request: ${banned.join(', ')}. Do not use these types.`
        : 'All task types are available.',
    ]),
    section('Services', [
      ...services.map((s) => `${s}: ${SERVICE_DESCRIPTION[s]}`),
      'transform, condition, parallel and delay call no service and are always available.',
    ]),
    section('Dependencies and branches', [
      'A task may read the result of another task only when it depends on it, directly or through other tasks.',
      'No cycles, no duplicate ids, no task depending on itself.',
      'A condition task has `condition` (an expression such as "${score > 0.8}"), lists in on_success the tasks ' +
        'that run when it is true and in on_failure those that run when it is false. Those tasks depend on it ' +
        'implicitly: do not repeat it in their depends_on. Only condition tasks have on_success and on_failure.',
      'trigger_rule decides when a task with dependencies runs. The default, none_failed_min_one_success, runs it ' +
        'when no dependency failed and at least one succeeded, so a join after a condition runs whichever branch ran.',
      `parallel: either tasks (a list of sub-tasks) or for_each (a list, usually "\${...}") with task (one ` +
        'sub-task, in which ${item} and ${index} name the current element). Sub-tasks have only id, type, ' +
        `parameters and timeout, and their type is one of: ${subTypes.join(', ')}.`,
    ]),
    section('Expressions', [
      '`${...}` inside any string value. A string that is exactly one `${...}` keeps the value type; embedded in ' +
        'longer text the value is written as text (objects as JSON). `$${` writes a literal `${`.',
      'Names: workflow variables and task results: ${task_id.output}, ${task_id.output.rows[0].name}, ' +
        '${task_id.status}, ${task_id.error}.',
      'Operators: == != < <= > >= && || ! a ? b : c, + - * / %; equality is strict (no type coercion).',
      `Functions (nothing else can be called): ${BUILTIN_FUNCTION_NAMES.join(' ')}. ` +
        'default(x, fallback) reads through missing values.',
      'The workflow has no inputs: every name an expression reads is a task or a workflow variable declared in ' +
        '`variables` with a literal value. Put tunable values (limits, texts, thresholds) there.',
    ]),
    section('Task outputs', OUTPUT_SHAPES),
  ];
  const examples = exampleWorkflows(templates, allowed);
  if (examples.length > 0) sections.push(section('Examples', examples));
  return sections.join('\n\n');
}

export function buildUserPrompt(request: {
  prompt: string;
  domain: string | null;
  complexity: Complexity;
  services: readonly ServiceType[];
}): string {
  return [
    'Create a workflow for this request:',
    '"""',
    request.prompt,
    '"""',
    ...(request.domain ? [`Domain: ${request.domain}`] : []),
    `Complexity: ${request.complexity} (${SIZE_HINT[request.complexity]})`,
    `Services: ${request.services.length > 0 ? request.services.join(', ') : 'none'}`,
  ].join('\n');
}

/** The follow-up of a rejected candidate: the errors as data, so the model can map each to its place. */
export function buildRepairPrompt(errors: readonly ErrorDetail[]): string {
  return [
    'The workflow you returned has these problems (pointer: a JSON pointer into your reply):',
    JSON.stringify(errors.map(({ pointer, message }) => ({ pointer, message }))),
    'Reply with the complete corrected workflow as one JSON object.',
  ].join('\n');
}

function section(title: string, lines: readonly string[]): string {
  return [`## ${title}`, ...lines].join('\n');
}

/**
 * Templates as stand-alone workflows, the form asked for: their inputs become literal workflow variables (the
 * default, or a placeholder). Templates using a type the request rules out would teach the wrong thing; skipped.
 */
function exampleWorkflows(templates: readonly TemplateDefinition[], allowed: readonly TaskType[]): string[] {
  const out: string[] = [];
  for (const template of templates) {
    if (out.length >= MAX_EXAMPLES) break;
    const workflow = standalone(template);
    if (!workflow || !usedTypes(workflow).every((t) => allowed.includes(t as TaskType))) continue;
    const title = `${template.name} (${template.id})${template.description ? `: ${template.description}` : ''}`;
    out.push(`${title}\n${JSON.stringify(workflow)}`);
  }
  return out;
}

function standalone(template: TemplateDefinition): WorkflowDefinition | undefined {
  try {
    const inputs = Object.fromEntries((template.variables ?? []).map((v) => [v.name, v.default ?? placeholder(v)]));
    const own = resolveValue(template.workflow.variables ?? {}, inputs) as Record<string, unknown>;
    const workflow = { ...template.workflow, variables: { ...inputs, ...own } };
    return validateWorkflow(workflow).errors.length === 0 ? workflow : undefined;
  } catch {
    // A template whose variables do not resolve is no example worth giving.
    return undefined;
  }
}

function placeholder(v: VariableDefinition): unknown {
  switch (v.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return false;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return `<${v.name}>`;
  }
}

/** Top-level task types plus those of parallel sub-tasks. */
export function usedTypes(workflow: WorkflowDefinition): string[] {
  const types: string[] = [];
  for (const task of workflow.tasks) {
    types.push(task.type);
    const params = task.parameters ?? {};
    const subs = [...(Array.isArray(params.tasks) ? params.tasks : []), params.task];
    for (const sub of subs) {
      const type = (sub as { type?: unknown } | undefined)?.type;
      if (typeof type === 'string') types.push(type);
    }
  }
  return types;
}

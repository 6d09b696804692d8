import type { TemplateCatalog } from '@orch/templates';

/** A request body Swagger UI's "Try it out" fills in, and path parameter values that exist. */
export interface OpenApiExamples {
  /** By operationId. Each names a catalog template or carries an inline workflow, never both. */
  bodies: Record<string, unknown>;
  /** By operationId, then parameter name. */
  params: Record<string, Record<string, string>>;
}

/** The template the examples use: the built-in data-analysis-basic when the catalog has it, else its first. */
const PREFERRED = 'data-analysis-basic';

/** A value of the declared type, for a required variable without a default. */
function sample(type: string | undefined): unknown {
  switch (type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return 'example';
  }
}

/**
 * Examples that run as they are against this server: a real template of its catalog with variables that fit it
 * (the README's for data-analysis-basic), and an inline workflow that needs no service. Built from the catalog at
 * start, so a server with other templates still offers runnable ones.
 */
export function openapiExamples(catalog: TemplateCatalog): OpenApiExamples {
  const templates = catalog.list();
  const chosen = templates.find((t) => t.id === PREFERRED) ?? templates[0];
  const variables: Record<string, unknown> =
    chosen?.id === PREFERRED
      ? { query_limit: 50, analysis_prompt: 'Identify key trends in the data' }
      : Object.fromEntries(
          (chosen?.variables ?? []).filter((v) => v.required).map((v) => [v.name, v.default ?? sample(v.type)]),
        );
  const inline = {
    workflow: {
      id: 'hello',
      tasks: [
        { id: 'greet', type: 'transform', parameters: { output: 'hello ${who}' } },
        { id: 'shout', type: 'transform', depends_on: ['greet'], parameters: { output: '${upper(greet.output)}!' } },
      ],
    },
    variables: { who: 'world' },
  };
  const fromTemplate = chosen ? { workflow_template: chosen.id, variables } : inline;
  return {
    bodies: {
      submitWorkflow: fromTemplate,
      validateWorkflow: inline,
      createSchedule: chosen
        ? { id: 'weekly-report', cron: '0 9 * * 1', timezone: 'UTC', workflow_template: chosen.id, variables }
        : { id: 'weekly-report', cron: '0 9 * * 1', timezone: 'UTC', ...inline },
      generateWorkflow: {
        prompt: 'Fetch graph data, search similar documents, and write an AI summary report',
        domain: 'data-science',
        complexity: 'medium',
        required_services: ['data', 'ai'],
        dry_run: true,
      },
      approveTask: { by: 'alice', payload: { ticket: 'OPS-1' } },
      rejectTask: { by: 'bob', reason: 'change freeze' },
    },
    params: Object.fromEntries([
      ...['getTemplate', 'listTemplateVersions'].map((op) => [op, { id: chosen?.id ?? PREFERRED }]),
      ...['getSchedule', 'deleteSchedule', 'pauseSchedule', 'resumeSchedule'].map((op) => [
        op,
        { id: 'weekly-report' },
      ]),
    ]),
  };
}

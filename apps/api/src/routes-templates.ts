import { generateWorkflow } from './handlers/generate-workflow';
import { templateVersions } from './handlers/template-versions';
import { getTemplate, listTemplates } from './handlers/templates';
import { validateWorkflow } from './handlers/validate-workflow';
import { generateBody, validateBody } from './request-schemas';
import { error, invalid, json, type RouteSpec } from './route-spec';

const noTemplate = error('No template with this id');

/** The template catalog, validation and generation. */
export const TEMPLATE_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/templates',
    operationId: 'listTemplates',
    summary: 'The template catalog',
    description: 'Every template the catalog loaded, at its newest version, with its variables and versions.',
    tag: 'templates',
    handler: listTemplates,
    scope: 'read',
    redis: false,
    responses: { 200: json('Every loaded template', 'TemplateList') },
  },
  {
    method: 'get',
    path: '/api/v1/templates/:id',
    operationId: 'getTemplate',
    summary: 'One template document',
    description: 'The newest version of the template, as loaded from its file.',
    tag: 'templates',
    handler: getTemplate,
    scope: 'read',
    redis: false,
    responses: { 200: json('The template', 'Template'), 404: noTemplate },
  },
  {
    method: 'get',
    path: '/api/v1/templates/:id/versions',
    operationId: 'listTemplateVersions',
    summary: 'Every version of a template the catalog holds, newest first (pin one with workflow_template: "id@1.2")',
    description:
      'Versions compare by dot-separated numbers (1.10 is newer than 1.9). A bare template id runs the newest; ' +
      '`id@version` pins one.',
    tag: 'templates',
    handler: templateVersions,
    scope: 'read',
    redis: false,
    responses: { 200: json('The versions', 'TemplateVersions'), 404: noTemplate },
  },
  {
    method: 'post',
    path: '/api/v1/validate',
    operationId: 'validateWorkflow',
    summary: 'Validate and plan a template or workflow with variables, without running it',
    description:
      'A malformed envelope is a 400; problems in the template, workflow or variables are `200` with ' +
      '`valid: false` and every problem located by a JSON pointer into the body.',
    tag: 'templates',
    handler: validateWorkflow,
    scope: 'read',
    body: validateBody,
    redis: false,
    responses: {
      200: json('`valid: true` with the plan, or `valid: false` with every error', 'ValidateResult'),
      400: invalid,
    },
  },
  {
    method: 'post',
    path: '/api/v1/generate',
    operationId: 'generateWorkflow',
    summary: 'Generate a workflow from a prompt with the configured model, validated and planned',
    description:
      'Asks the OpenAI-compatible endpoint of OPENAI_BASE_URL for a workflow, validates it and asks for repairs ' +
      '(up to GENERATE_MAX_ATTEMPTS candidates). With a valid result, `dry_run` simulates it, `save_as` writes it ' +
      'to the catalog (an `admin` key only), and `execute` starts it (202).',
    tag: 'templates',
    handler: generateWorkflow,
    scope: 'run',
    bodyScopes: { save_as: 'admin' },
    body: generateBody,
    responses: {
      200: json('The last candidate: `valid: true` with its plan, or `valid: false` with its errors', 'GenerateResult'),
      202: json('With execute: the generated workflow was started (`execution`)', 'GenerateResult'),
      400: invalid,
      409: error('save_as names a template that exists and overwrite is not set'),
      413: error('The prompt is longer than the generator allows'),
      502: error('The model endpoint failed'),
      503: error('No model endpoint is configured (OPENAI_BASE_URL / OPENAI_API_KEY)'),
      504: error('The model did not answer in time (OPENAI_TIMEOUT)'),
    },
  },
];

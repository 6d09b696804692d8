import { readFile } from 'node:fs/promises';
import type { RequestBody, Schemas } from '@orch/api-client';
import { loadConfig } from '@orch/config';
import {
  type PreparedWorkflow,
  prepareFromTemplate,
  prepareInline,
  type TemplateDefinition,
  validateTemplate,
  validateWorkflow,
} from '@orch/core';
import { type ErrorDetail, ValidationError } from '@orch/errors';
import { parseDocument, TemplateCatalog } from '@orch/templates';
import type { CliIo } from './cli-io';

type Workflow = Schemas['Workflow'];

/** A source names a file (rather than a catalog template id) when it ends in .yaml, .yml or .json. */
export const isFileSource = (source: string): boolean => /\.(ya?ml|json)$/i.test(source);

export async function readDocument(file: string): Promise<{ value: unknown; errors: ErrorDetail[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { value: undefined, errors: [{ pointer: '', message: `cannot read ${file}: ${(error as Error).message}` }] };
  }
  return parseDocument(text);
}

/** Templates wrap their workflow (`workflow:` plus `variables:` definitions); a bare workflow has `tasks`. */
export function isTemplate(value: unknown): value is TemplateDefinition {
  return !!value && typeof value === 'object' && 'workflow' in value;
}

export async function validateFile(file: string): Promise<{ kind: string; errors: ErrorDetail[] }> {
  const doc = await readDocument(file);
  if (doc.errors.length > 0) return { kind: 'document', errors: doc.errors };
  if (isTemplate(doc.value)) return { kind: 'template', errors: validateTemplate(doc.value).errors };
  return { kind: 'workflow', errors: validateWorkflow(doc.value).errors };
}

async function readValid(file: string): Promise<unknown> {
  const doc = await readDocument(file);
  if (doc.errors.length > 0) throw new ValidationError(`${file} is not valid YAML or JSON`, doc.errors);
  return doc.value;
}

/** For `plan`, offline: a file, or a template of the local catalog (ORCHESTRATOR_TEMPLATES). */
export async function prepareLocal(source: string, vars: Record<string, string>, io: CliIo): Promise<PreparedWorkflow> {
  if (isFileSource(source)) {
    const value = await readValid(source);
    return isTemplate(value) ? prepareFromTemplate(value, vars) : prepareInline(value, vars, '');
  }
  const catalog = await TemplateCatalog.load(loadConfig(io.env).templatesDir);
  return prepareFromTemplate(catalog.get(source), vars);
}

/**
 * The `POST /api/v1/workflows` body for `run`. A template id is left to the API's catalog. A workflow file goes
 * inline. A template file is checked here against its variable definitions (defaults applied, values coerced) and
 * sent as an inline workflow with the resulting variables, since the API runs inline workflows, not templates.
 */
export async function runRequest(source: string, vars: Record<string, string>): Promise<RequestBody<'submitWorkflow'>> {
  if (!isFileSource(source)) return { workflow_template: source, variables: vars };
  // Parsed only: the API validates the workflow and answers every problem with its JSON pointer.
  const value = (await readValid(source)) as Workflow | TemplateDefinition;
  if (!isTemplate(value)) return { workflow: value, variables: vars };
  const prepared = prepareFromTemplate(value, vars);
  return { workflow: value.workflow as Workflow, variables: prepared.variables };
}

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { prepareInline } from '@orch/core';
import { OrchestratorError } from '@orch/errors';
import { dryRun, type GenerationRequest, toTemplateYaml } from '@orch/generator';
import { TemplateCatalog } from '@orch/templates';
import { checkRequest, generateBody } from '../request-schemas';
import { executionLinks, type Handler } from './handler';

interface GenerateBody extends GenerationRequest {
  dry_run?: boolean;
  execute?: boolean;
  variables?: Record<string, unknown>;
  save_as?: string;
  overwrite?: boolean;
}

/**
 * `POST /api/v1/generate`: prompt -> workflow through the configured OpenAI-compatible endpoint, validated (and
 * repaired) by @orch/generator. A candidate that stays invalid is `200 {valid: false}`; no endpoint is a 503.
 * With a valid result: `dry_run` simulates it, `save_as` writes it to the catalog (409 if the file exists, unless
 * `overwrite`), `execute` starts it. The call is aborted when the client goes away, so an abandoned request stops
 * spending tokens.
 */
export const generateWorkflow: Handler = async (input, deps) => {
  const { dry_run, execute, variables, save_as, overwrite, ...request } = checkRequest<GenerateBody>(
    generateBody,
    input.body,
    'request body',
  );
  const result = await deps.generator.generate(request, { signal: input.signal });
  deps.logger.info('workflow generated', { valid: result.valid, attempts: result.attempts, model: result.model });
  const body: Record<string, unknown> = { ...result };
  if (!result.valid || !result.workflow) return { status: 200, body };
  if (dry_run) body.dry_run = dryRun(result.workflow, { variables });
  if (save_as) {
    const dir = resolve(deps.config.templatesDir);
    const path = join(dir, `${save_as}.yaml`);
    if (!overwrite && (existsSync(path) || deps.catalog.has(save_as))) {
      throw new OrchestratorError(
        'CONFLICT',
        `template '${save_as}' already exists; send overwrite: true to replace it`,
      );
    }
    await writeFile(path, toTemplateYaml(result, save_as), 'utf8');
    deps.catalog = await TemplateCatalog.load(dir);
    body.saved_as = { id: save_as, path: `${save_as}.yaml` };
  }
  if (execute) {
    const submitted = await deps.engine.submit(prepareInline(result.workflow, variables ?? {}), {
      requestId: input.requestId,
    });
    body.execution = {
      execution_id: submitted.executionId,
      status: submitted.status,
      links: executionLinks(submitted.executionId),
    };
  }
  return { status: execute ? 202 : 200, body };
};

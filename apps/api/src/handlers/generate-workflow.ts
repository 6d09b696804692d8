import { prepareInline } from '@orch/core';
import { dryRun, toTemplateYaml } from '@orch/generator';
import { TemplateCatalog } from '@orch/templates';
import { checkRequest, generateBody } from '../request-schemas';
import { executionLinks, type Handler } from './handler';

/**
 * `POST /api/v1/generate`: prompt -> workflow through the configured OpenAI-compatible endpoint, validated (and
 * repaired) by @orch/generator. A candidate that stays invalid is `200 {valid: false}`; no endpoint is a 503.
 * With a valid result: `dry_run` simulates it, `save_as` writes it to the catalog (409 if the id exists; with
 * `overwrite` a new version of it: no catalog file, a built-in one least of all, is ever replaced), `execute` starts
 * it. The call is aborted when the client goes away, so an abandoned request stops
 * spending tokens.
 */
export const generateWorkflow: Handler = async (input, deps) => {
  const checked = checkRequest(generateBody, input.body, 'request body');
  const { dry_run, execute, variables, save_as, overwrite, ...request } = checked;
  const result = await deps.generator.generate(request, { signal: input.signal });
  deps.logger.info('workflow generated', { valid: result.valid, attempts: result.attempts, model: result.model });
  const body: Record<string, unknown> = { ...result };
  if (!result.valid || !result.workflow) return { status: 200, body };
  if (dry_run) body.dry_run = dryRun(result.workflow, { variables });
  if (save_as) {
    const workflow = result;
    const saved = await deps.catalog.save(save_as, (version) => toTemplateYaml(workflow, save_as, version), {
      overwrite,
    });
    deps.catalog = await TemplateCatalog.load(deps.catalog.dir);
    deps.logger.info('template saved', { template: save_as, version: saved.version, by: input.caller.name });
    body.saved_as = { id: save_as, version: saved.version, path: saved.file };
  }
  if (execute) {
    const submitted = await deps.engine.submit(prepareInline(result.workflow, variables ?? {}), {
      requestId: input.requestId,
      submittedBy: input.caller.name,
    });
    body.execution = {
      execution_id: submitted.executionId,
      status: submitted.status,
      links: executionLinks(submitted.executionId),
    };
  }
  return { status: execute ? 202 : 200, body };
};

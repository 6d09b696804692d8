import { templateSchema, workflowSchema } from '@orch/core';
import { CATALOG_SCHEMAS } from './schemas/catalog';
import { EVENT_SCHEMAS } from './schemas/events';
import { LOG_SCHEMAS } from './schemas/logs';
import { OPERATIONS_SCHEMAS } from './schemas/operations';
import { ERROR_SCHEMAS } from './schemas/parts';
import { RUN_SCHEMAS } from './schemas/runs';
import { SCHEDULE_SCHEMAS } from './schemas/schedules';

/**
 * The component schemas of the OpenAPI document: every response body (schemas/), the events of a run's stream, and
 * the documents users write (templates, workflows) from @orch/core. Request bodies come from request-schemas.ts.
 */
export const RESPONSE_SCHEMAS = {
  ...ERROR_SCHEMAS,
  ...RUN_SCHEMAS,
  ...LOG_SCHEMAS,
  ...CATALOG_SCHEMAS,
  ...SCHEDULE_SCHEMAS,
  ...OPERATIONS_SCHEMAS,
  Template: templateSchema,
};

/** A schema name a route's response may name. */
export type ResponseSchema = keyof typeof RESPONSE_SCHEMAS;

/** Every component schema, before publicSchema() turns them into the published form. */
export const COMPONENT_SCHEMAS: Record<string, unknown> = {
  ...RESPONSE_SCHEMAS,
  ...EVENT_SCHEMAS,
  Workflow: workflowSchema,
};

export { ref } from './schemas/parts';

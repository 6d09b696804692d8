import { planWorkflow } from '@orch/core';
import { ValidationError } from '@orch/errors';
import { checkRequest, validateBody } from '../request-schemas';
import { prepareWithTaskTypes } from '../workflow-request';
import type { Handler } from './handler';

/**
 * `POST /api/v1/validate`: checks a template (by id or inline) or a workflow with variables, and plans it,
 * without running anything. A malformed envelope is a 400; problems in the document are `200 {valid: false}`.
 */
export const validateWorkflow: Handler = async (input, deps) => {
  const request = checkRequest(validateBody, input.body, 'request body');
  try {
    const prepared = await prepareWithTaskTypes(deps.engine, request, deps.catalog);
    return { status: 200, body: { valid: true, plan: planWorkflow(prepared) } };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { status: 200, body: { valid: false, message: error.message, errors: error.details } };
  }
};

import type { Handler } from './handler';

const id = (params: Record<string, string>) => params.id as string;

/** `GET /api/v1/workflows/{id}/status`: status, progress counts and per-task states, without outputs. */
export const getWorkflowStatus: Handler = async (input, deps) => {
  const record = await deps.engine.get(id(input.params), { outputs: false });
  const { variables: _variables, ...status } = record;
  return { status: 200, body: status };
};

/** `GET /api/v1/workflows/{id}`: the full record, with variables and task outputs. */
export const getWorkflow: Handler = async (input, deps) => {
  return { status: 200, body: await deps.engine.get(id(input.params)) };
};

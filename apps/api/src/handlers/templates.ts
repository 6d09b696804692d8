import type { Handler } from './handler';

/** `GET /api/v1/templates`: the catalog (file paths stay on the server). */
export const listTemplates: Handler = async (_input, deps) => {
  const templates = deps.catalog.list().map(({ path: _path, ...summary }) => summary);
  return { status: 200, body: { templates, count: templates.length } };
};

/** `GET /api/v1/templates/{id}`: the whole template document; 404 for an unknown id. */
export const getTemplate: Handler = async (input, deps) => {
  return { status: 200, body: deps.catalog.get(input.params.id as string) };
};

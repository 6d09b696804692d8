import type { Handler } from './handler';

/** `GET /api/v1/templates/{id}/versions`: every version the catalog holds, newest first. */
export const templateVersions: Handler = async (input, deps) => {
  const id = input.params.id as string;
  const versions = deps.catalog.listVersions(id).map(({ path: _path, ...summary }) => summary);
  return { status: 200, body: { id, versions } };
};

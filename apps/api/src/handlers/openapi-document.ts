import type { Handler } from './handler';

/** `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, built once from the route table. */
export const openapiDocument: Handler = async (_input, deps) => ({ status: 200, body: deps.openapi });

import type { ExecutionListResponse } from '@orch/run-model';
import { checkRequest, listWorkflowsQuery, typedQuery } from '../request-schemas';
import type { Handler } from './handler';

/** `GET /api/v1/workflows?status=&template=&limit=&cursor=`: runs newest first, a page at a time. */
export const listWorkflows: Handler = async (input, deps) => {
  const query = checkRequest(listWorkflowsQuery, typedQuery(listWorkflowsQuery, input.query), 'query string');
  const limit = query.limit ?? 20;
  const page = await deps.engine.list({ ...query, limit });
  let next: string | null = null;
  if (page.next_cursor) {
    const params = new URLSearchParams();
    if (query.status) params.set('status', query.status);
    if (query.template) params.set('template', query.template);
    params.set('limit', String(limit));
    params.set('cursor', page.next_cursor);
    next = `/api/v1/workflows?${params.toString()}`;
  }
  return {
    status: 200,
    body: { items: page.items, next_cursor: page.next_cursor ?? null, links: { next } } satisfies ExecutionListResponse,
  };
};

import type { RouteSpec } from './route-spec';
import { OPERATION_ROUTES } from './routes-operations';
import { RUN_CONTROL_ROUTES } from './routes-run-control';
import { SCHEDULE_ROUTES } from './routes-schedules';
import { TEMPLATE_ROUTES } from './routes-templates';
import { WORKFLOW_ROUTES } from './routes-workflows';

export type { ResponseHeader, RouteResponse, RouteSpec, RouteTag } from './route-spec';
export { TAGS } from './route-spec';

/**
 * Every route of the API, in the order Express matches them and the document lists them. A route is declared in the
 * file of its tag (routes-<tag>.ts), with its responses: see RouteSpec in route-spec.ts.
 */
export const ROUTES: readonly RouteSpec[] = [
  ...WORKFLOW_ROUTES,
  ...RUN_CONTROL_ROUTES,
  ...TEMPLATE_ROUTES,
  ...SCHEDULE_ROUTES,
  ...OPERATION_ROUTES,
];

/** `/a/:id/b` -> `/a/{id}/b`. */
export function openapiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

/** A matcher for a route path, to tell a wrong method (405) from an unknown path (404). */
export function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

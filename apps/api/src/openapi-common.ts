import { DURATION_FORMAT } from '@orch/core';
import { error, type ResponseHeader, type RouteResponse, type RouteSpec } from './route-spec';

/**
 * What every route of a kind answers besides its own responses, as the app's middleware answers it: the document
 * adds these to each operation (openapi.ts), so a route declares only what its handler decides.
 */
export function commonResponses(route: RouteSpec): Record<number, RouteResponse> {
  const common: Record<number, RouteResponse> = {};
  const reasons400: string[] = [];
  if (route.path.includes(':')) reasons400.push('a percent-escape in the path is not UTF-8');
  if (route.body) {
    reasons400.push(
      'the body is not JSON, nests deeper than ORCHESTRATOR_JSON_MAX_DEPTH, or does not inflate as its ' +
        'Content-Encoding says',
    );
    if (!route.bodyOptional) reasons400.push('the body is missing');
    common[413] = error('The body (inflated) is larger than ORCHESTRATOR_BODY_LIMIT');
    common[415] = error(
      'The body is not sent as Content-Type: application/json, or its Content-Encoding is not gzip, deflate or br',
    );
  }
  if (reasons400.length > 0) common[400] = error(capitalise(reasons400.join('; ')));
  if (route.scope !== 'none') {
    common[401] = { ...error('Missing or unknown API key'), headers: ['WWW-Authenticate'] };
    const extra = Object.entries(route.bodyScopes ?? {}).map(([field, scope]) => `; \`${field}\` needs '${scope}'`);
    common[403] = error(`The key lacks the '${route.scope}' scope${extra.join('')}`);
  }
  common[408] = error(
    'The request did not arrive in time (ORCHESTRATOR_HEADERS_TIMEOUT for the headers, ORCHESTRATOR_REQUEST_TIMEOUT ' +
      'for all of it)',
  );
  common[431] = error('The request headers are larger than 16 KB');
  if (route.redis !== false) {
    common[503] = { ...error('Redis is unavailable; try again after Retry-After seconds'), headers: ['Retry-After'] };
  }
  return common;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The SPDX id of the project's license, as package.json says. */
export const API_LICENSE = 'Apache-2.0';

export const COMMON_HEADERS: Record<ResponseHeader, object> = {
  Location: {
    description: "The path of the run's status (`/api/v1/workflows/{id}/status`)",
    required: true,
    schema: { type: 'string' },
  },
  'Retry-After': {
    description: 'Seconds after which the request may succeed (sent when the condition is passing)',
    schema: { type: 'integer', minimum: 0 },
  },
  'WWW-Authenticate': { description: 'The scheme to authenticate with', required: true, schema: { type: 'string' } },
  'X-Request-Id': {
    description: 'The X-Request-Id sent (when it is a plain token of up to 128 characters), else a new id',
    required: true,
    schema: { type: 'string' },
  },
};

export const DOCUMENT_DESCRIPTION = [
  'DAG workflow orchestration on BullMQ and Redis.',
  '',
  'Send `Authorization: Bearer <key>` when ORCHESTRATOR_API_KEYS is set; each operation names the scope its key ' +
    'needs (`x-required-scope`: `read`, `run` or `admin`, which includes the other two).',
  '',
  'Every 4xx and 5xx answer is an `Error`: a stable `code`, a `message` for a person, and `details` that point ' +
    'into the request body with JSON pointers.',
  '',
  `Durations (timeouts, delays, backoff) use the format \`${DURATION_FORMAT}\`: a number of seconds, or a string ` +
    'of one or more `<number><unit>` parts with units `ms`, `s`, `m`, `h`, `d` (`500ms`, `1s`, `1h30m`). The ' +
    'schemas give its regular expression as `pattern` too, for validators that do not know the format.',
  '',
  "A run's events (`GET /api/v1/workflows/{id}/events`) are Server-Sent Events whose `data` is an " +
    '`ExecutionEvent`: one schema per event type.',
].join('\n');

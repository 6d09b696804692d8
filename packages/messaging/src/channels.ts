/**
 * The pub/sub channels of the three external services, as named in the reference's "Integration" section.
 * Requests and cancel messages go to `requests`; each service publishes its responses to the request's
 * `reply_channel`, which the orchestrator sets to `responses`.
 */
export const SERVICE_CHANNELS = {
  data: { service: 'data-abstractor', requests: 'data-requests', responses: 'data-responses' },
  ai: { service: 'ai-abstractor', requests: 'ai-requests', responses: 'ai-responses' },
  exec: { service: 'exec-agent', requests: 'exec-requests', responses: 'exec-responses' },
} as const;

export type ServiceKind = keyof typeof SERVICE_CHANNELS;

/** The service that listens on (or answers on) `channel`, for messages a person reads; the channel itself otherwise. */
export function serviceForChannel(channel: string): string {
  for (const entry of Object.values(SERVICE_CHANNELS)) {
    if (entry.requests === channel || entry.responses === channel) return entry.service;
  }
  return `service on ${channel}`;
}

import type { ErrorDetail } from '@orch/errors';

/**
 * What a key may do. `read`: GET routes, event streams, the web view's data. `run`: submit, cancel, retry, pause,
 * resume, approve and reject. `admin`: template writes, schedules, Bull Board's write actions; it includes the other
 * two. `read` and `run` are independent: a key that submits and follows its runs needs both.
 */
export const API_SCOPES = ['read', 'run', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** One entry of ORCHESTRATOR_API_KEYS. */
export interface ApiKey {
  /** Recorded on the runs it submits and the approvals it decides; `key-<n>` for a plain entry. */
  name: string;
  key: string;
  scopes: ApiScope[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

/**
 * Parses `name:key:scope+scope,…`; a plain `key` entry is an admin key named `key-<position>`, so lists written
 * before scopes existed keep their meaning. Problems name the entry by position and name, never by its key.
 */
export function parseApiKeys(text: string): { keys: ApiKey[]; errors: ErrorDetail[] } {
  const keys: ApiKey[] = [];
  const errors: ErrorDetail[] = [];
  const fail = (message: string) => errors.push({ pointer: 'ORCHESTRATOR_API_KEYS', message });
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const position = index + 1;
    const parts = entry.split(':');
    if (parts.length === 1) {
      keys.push({ name: `key-${position}`, key: entry, scopes: ['admin'] });
      continue;
    }
    const [name = '', key = '', scopeList = ''] = parts;
    if (parts.length !== 3) {
      fail(`entry ${position} must be a plain key or name:key:scopes (e.g. ci:<key>:read+run)`);
      continue;
    }
    if (!NAME.test(name)) {
      fail(`entry ${position}: the name must be 1-64 letters, digits, '_', '.', '@' or '-'`);
      continue;
    }
    if (!key) {
      fail(`entry ${position} (${name}) has an empty key`);
      continue;
    }
    const scopes = scopeList.split('+').map((s) => s.trim());
    const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0 || scopes.length === 0) {
      fail(`entry ${position} (${name}): scopes must be ${API_SCOPES.join(', ')} joined by '+'; got '${scopeList}'`);
      continue;
    }
    keys.push({ name, key, scopes: [...new Set(scopes)] as ApiScope[] });
  }
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const { name, key } of keys) {
    if (names.has(name)) fail(`the name '${name}' is used by two entries`);
    if (secrets.has(key)) fail(`the key of '${name}' is also the key of an earlier entry`);
    names.add(name);
    secrets.add(key);
  }
  return { keys, errors };
}

/** Whether a key with `granted` scopes may use a route that needs `needed`; admin includes everything. */
export function hasScope(granted: readonly ApiScope[], needed: ApiScope): boolean {
  return granted.includes(needed) || granted.includes('admin');
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { type ApiKey, type ApiScope, hasScope } from '@orch/config';
import { OrchestratorError } from '@orch/errors';
import type { RequestHandler, Response } from 'express';

/** Who is calling: the key's name and scopes; without configured keys everyone is an anonymous admin. */
export interface Caller {
  /** The key's name; undefined when the API has no keys (then nothing is recorded as who did what). */
  name?: string;
  scopes: readonly ApiScope[];
}

/** A route's scope, or `none` for the open health probe. */
export type RouteScope = ApiScope | 'none';

const OPEN_API: Caller = Object.freeze({ scopes: Object.freeze(['admin'] as ApiScope[]) });
/** On an open path (/health) of an API with keys: no key, no scope. */
const ANONYMOUS: Caller = Object.freeze({ scopes: Object.freeze([] as ApiScope[]) });

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Bearer API keys. Keys are compared as SHA-256 digests with timingSafeEqual, so neither a key's content nor its
 * length leaks through timing; every key is compared, with no early exit. `open` paths (health probes) pass. The
 * caller is left in `res.locals.caller` for requireScope and the handlers.
 */
export function authenticate(keys: readonly ApiKey[], open: ReadonlySet<string>): RequestHandler {
  const known = keys.map((k) => ({ digest: digest(k.key), caller: Object.freeze({ name: k.name, scopes: k.scopes }) }));
  return (req, res, next) => {
    if (known.length === 0) {
      res.locals.caller = OPEN_API;
      return next();
    }
    if (open.has(req.path)) {
      res.locals.caller = ANONYMOUS;
      return next();
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    let caller: Caller | undefined;
    if (match) {
      const given = digest(match[1] as string);
      for (const key of known) if (timingSafeEqual(given, key.digest)) caller = key.caller;
    }
    if (caller) {
      res.locals.caller = caller;
      return next();
    }
    next(
      new OrchestratorError(
        'UNAUTHORIZED',
        match ? 'the API key is not valid' : 'this route needs an API key: send Authorization: Bearer <key>',
      ),
    );
  };
}

/** 403 unless the caller's key has `scope` (admin has every scope). */
export function requireScope(scope: RouteScope): RequestHandler {
  return (_req, res, next) => {
    if (scope === 'none') return next();
    const problem = missingScope(callerOf(res), scope);
    next(problem ? new OrchestratorError('FORBIDDEN', problem) : undefined);
  };
}

/** Why `caller` may not do what needs `scope`, or undefined when it may. */
export function missingScope(caller: Caller, scope: ApiScope, what = 'this route'): string | undefined {
  if (hasScope(caller.scopes, scope)) return undefined;
  return `${what} needs the '${scope}' scope; the key '${caller.name}' has ${caller.scopes.map((s) => `'${s}'`).join(', ')}`;
}

/** The authenticated caller of a request (set by authenticate). */
export function callerOf(res: Response): Caller {
  const caller = res.locals.caller as Caller | undefined;
  if (!caller) throw new OrchestratorError('INTERNAL', 'no caller: authenticate() did not run for this route');
  return caller;
}

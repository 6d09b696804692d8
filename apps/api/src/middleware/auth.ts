import { createHash, timingSafeEqual } from 'node:crypto';
import { OrchestratorError } from '@orch/errors';
import type { RequestHandler } from 'express';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Bearer API keys. Keys are compared as SHA-256 digests with timingSafeEqual, so neither a key's content nor its
 * length leaks through timing; every key is compared, with no early exit. `open` paths (health probes) pass.
 */
export function requireApiKey(keys: readonly string[], open: ReadonlySet<string>): RequestHandler {
  const digests = keys.map(digest);
  return (req, _res, next) => {
    if (digests.length === 0 || open.has(req.path)) return next();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    let ok = false;
    if (match) {
      const given = digest(match[1] as string);
      for (const known of digests) ok = timingSafeEqual(given, known) || ok;
    }
    if (ok) return next();
    next(
      new OrchestratorError(
        'UNAUTHORIZED',
        match ? 'the API key is not valid' : 'this route needs an API key: send Authorization: Bearer <key>',
      ),
    );
  };
}

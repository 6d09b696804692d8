import { readFileSync } from 'node:fs';
import type { ErrorDetail } from '@orch/errors';

const FILES = { REDIS_TLS_CA: 'ca', REDIS_TLS_CERT: 'cert', REDIS_TLS_KEY: 'key' } as const;

/**
 * TLS to Redis is on with REDIS_TLS=true or a `rediss://` REDIS_URL. The CA (for a private CA) and the client
 * certificate and key (for `tls-auth-clients yes`) are PEM files, read once here so a wrong path stops the process
 * at start instead of failing every reconnect.
 */
export function readTlsFiles(
  raw: Record<string, unknown>,
  errors: ErrorDetail[],
): { ca?: string; cert?: string; key?: string } | undefined {
  const url = raw.REDIS_URL as string | undefined;
  const on = raw.REDIS_TLS === true || (url?.startsWith('rediss://') ?? false);
  const given = Object.keys(FILES).filter((name) => raw[name] !== undefined);
  if (!on) {
    if (given.length > 0) {
      errors.push({ pointer: given[0] as string, message: 'has no effect without REDIS_TLS=true or a rediss:// URL' });
    }
    return undefined;
  }
  if ((raw.REDIS_TLS_CERT === undefined) !== (raw.REDIS_TLS_KEY === undefined)) {
    errors.push({
      pointer: 'REDIS_TLS_CERT',
      message: 'and REDIS_TLS_KEY go together (a client certificate and its key)',
    });
  }
  const tls: { ca?: string; cert?: string; key?: string } = {};
  for (const [name, field] of Object.entries(FILES)) {
    const path = raw[name] as string | undefined;
    if (path === undefined) continue;
    try {
      tls[field] = readFileSync(path, 'utf8');
    } catch (error) {
      errors.push({ pointer: name, message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}` });
    }
  }
  return tls;
}

import { isIP } from 'node:net';
import type { ErrorDetail } from '@orch/errors';

/** An address range: `10.0.0.0/8`, `::1/128`; a bare address is its own /32 or /128. */
export interface CidrPattern {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Outbound rules of the `http` task type (HTTP_TASK_ALLOW, HTTP_TASK_DENY, HTTP_TASK_SECRET_ENV). */
export interface HttpTaskSettings {
  /** Host names (`api.example.com`, `*.example.com`, `*`) and ranges that are let through despite the defaults. */
  allow: { hosts: string[]; cidrs: CidrPattern[] };
  /** Host names and ranges refused on top of the default blocked ranges (loopback, private, link-local, ...). */
  deny: { hosts: string[]; cidrs: CidrPattern[] };
  /** Environment variables a header may read as `${env.NAME}`. */
  secretEnv: string[];
}

const HOST_PATTERN = /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function split(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One list of host and CIDR patterns; each bad entry is an error naming the variable. */
function parsePatterns(name: string, value: string | undefined, errors: ErrorDetail[]) {
  const hosts: string[] = [];
  const cidrs: CidrPattern[] = [];
  for (const entry of split(value)) {
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    if (family !== 0 && extra === undefined) {
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (Number.isInteger(prefix) && prefix >= 0 && prefix <= max && prefixText !== '') {
        cidrs.push({ address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' });
        continue;
      }
    } else if (prefixText === undefined && HOST_PATTERN.test(entry.toLowerCase())) {
      hosts.push(entry.toLowerCase());
      continue;
    }
    errors.push({
      pointer: name,
      message: `entry ${JSON.stringify(entry)} is neither a host pattern (api.example.com, *.example.com, *) nor an address or CIDR range (10.0.0.0/8, ::1)`,
    });
  }
  return { hosts, cidrs };
}

export function parseHttpTaskSettings(
  env: { allow?: string; deny?: string; secretEnv?: string },
  errors: ErrorDetail[],
): HttpTaskSettings {
  const secretEnv = split(env.secretEnv);
  for (const name of secretEnv.filter((n) => !ENV_NAME.test(n)))
    errors.push({
      pointer: 'HTTP_TASK_SECRET_ENV',
      message: `${JSON.stringify(name)} is not an environment variable name`,
    });
  return {
    allow: parsePatterns('HTTP_TASK_ALLOW', env.allow, errors),
    deny: parsePatterns('HTTP_TASK_DENY', env.deny, errors),
    secretEnv,
  };
}

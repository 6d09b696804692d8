import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { CidrPattern, HttpTaskSettings } from '@orch/config';
import { PermanentTaskError } from '@orch/errors';

/**
 * The classic SSRF targets, refused unless HTTP_TASK_ALLOW names them: "this network", private (RFC 1918, unique
 * local), shared (CGNAT), loopback, link-local (cloud metadata at 169.254.169.254, fd00:ec2::254), benchmarking,
 * multicast, reserved, and IPv6 forms that embed an IPv4 address (NAT64, 6to4).
 */
const BLOCKED_RANGES: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 96, 'ipv6'],
  ['::ffff:0:0', 96, 'ipv6'],
  ['::ffff:0:0:0', 96, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

function blockList(cidrs: readonly CidrPattern[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

/** `::ffff:a.b.c.d` (in any spelling) is the IPv4 address it maps; anything else is itself. */
export function canonicalAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return { address: bare, family: 'ipv4' };
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(.+)$/i.exec(bare) ?? /^::ffff:(.+)$/i.exec(bare);
  const tail = mapped?.[1];
  if (tail && isIP(bare) === 6) {
    if (isIP(tail) === 4) return { address: tail, family: 'ipv4' };
    const words = tail.split(':');
    if (words.length === 2) {
      const [hi, lo] = words.map((w) => Number.parseInt(w, 16)) as [number, number];
      return { address: [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.'), family: 'ipv4' };
    }
  }
  return { address: bare, family: 'ipv6' };
}

function hostMatches(patterns: readonly string[], host: string): boolean {
  return patterns.some((p) => p === '*' || p === host || (p.startsWith('*.') && host.endsWith(p.slice(1))));
}

/** Why an outbound request is refused (a permanent failure: retrying cannot change the rules). */
export class OutboundRefusedError extends PermanentTaskError {
  constructor(message: string) {
    super(message, { code: 'FORBIDDEN' });
  }
}

/**
 * Decides where `http` tasks may connect: a name is checked against the host patterns, and every address it
 * resolves to (or a literal address) against the ranges. HTTP_TASK_ALLOW wins over HTTP_TASK_DENY and the default
 * blocked ranges; a host pattern in it lifts only the name check, so a name on the allow list that resolves to a
 * blocked address is still refused unless a range in HTTP_TASK_ALLOW covers that address.
 */
export class OutboundPolicy {
  private readonly allowed: BlockList;
  private readonly denied: BlockList;

  constructor(private readonly settings: Pick<HttpTaskSettings, 'allow' | 'deny'>) {
    this.allowed = blockList(settings.allow.cidrs);
    this.denied = blockList([
      ...BLOCKED_RANGES.map(([address, prefix, family]) => ({ address, prefix, family })),
      ...settings.deny.cidrs,
    ]);
  }

  /** Throws OutboundRefusedError when the host name is refused. */
  checkHost(host: string): void {
    const name = host.toLowerCase().replace(/\.$/, '');
    const { allow, deny } = this.settings;
    if (hostMatches(deny.hosts, name) && !hostMatches(allow.hosts, name))
      throw new OutboundRefusedError(`http task: host ${name} is refused by HTTP_TASK_DENY`);
  }

  /** Throws OutboundRefusedError when the address is refused; `host` names it in the message. */
  checkAddress(address: string, host: string): void {
    const { address: canonical, family } = canonicalAddress(address);
    if (this.allowed.check(canonical, family)) return;
    if (this.denied.check(canonical, family)) {
      throw new OutboundRefusedError(
        `http task: ${host} is ${canonical}, a blocked address (loopback, private, link-local, metadata or HTTP_TASK_DENY); list it in HTTP_TASK_ALLOW to reach it`,
      );
    }
  }

  /**
   * A `lookup` for http.request: resolves the name and hands the socket only addresses that pass, so the address
   * checked is the address connected to (a name that re-resolves differently cannot slip past the check).
   */
  readonly lookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { all: true, family: options.family as 0 | 4 | 6 | undefined }, (error, addresses) => {
      if (error) return callback(error, []);
      let refusal: Error | undefined;
      const passed = addresses.filter((a) => {
        try {
          this.checkAddress(a.address, hostname);
          return true;
        } catch (e) {
          refusal ??= e as Error;
          return false;
        }
      });
      const first = passed[0];
      if (!first) return callback(refusal ?? new OutboundRefusedError(`http task: ${hostname} has no address`), []);
      if (options.all) return callback(null, passed);
      callback(null, first.address, first.family);
    });
  };
}

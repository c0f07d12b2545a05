import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a callback never goes to, whatever the allowlist says: cloud metadata services and the
 * link-local ranges they live in, and the unspecified addresses (which connect to this host).
 * IPv4-mapped IPv6 addresses are checked against the IPv4 rules too (BlockList does that).
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local; AWS/GCP/Azure/OpenStack metadata at .169.254
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network", 0.0.0.0 included
FORBIDDEN.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
FORBIDDEN.addAddress('192.0.0.192', 'ipv4'); // Oracle Cloud metadata (legacy)
FORBIDDEN.addAddress('::', 'ipv6');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6'); // link-local
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6

/** Whether `address` (an IP literal) is one a callback must never reach. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A URL's hostname as an address or a DNS name: `[::1]` → `::1`. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** A refusal to deliver that no retry can change (the name resolves to a forbidden address, ...). */
export class CallbackRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallbackRefusedError';
  }
}

/**
 * Resolves a callback's host now, at delivery, and returns the one address to connect to. Every
 * address the name has is checked, not only the first: a name that also points at a metadata
 * address is refused outright.
 */
export async function resolveCallbackAddress(hostname: string): Promise<{ address: string; family: 4 | 6 }> {
  const host = bareHost(hostname);
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await lookup(host, { all: true, verbatim: true });
  const forbidden = addresses.find((a) => isForbiddenAddress(a.address));
  if (forbidden) throw new CallbackRefusedError(`callback host '${host}' resolves to ${forbidden.address}, a link-local, metadata or unspecified address`);
  const first = addresses[0];
  if (!first) throw new Error(`callback host '${host}' has no address`);
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

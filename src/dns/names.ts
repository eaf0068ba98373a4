// Name and address checks shared by the record index, the wire layer and resolv.conf rendering.
// Everything that ends up in a DNS answer or a Pod's resolv.conf passes through here first, so a
// hostile object name can never smuggle a dot, a space or a newline into either.

import { isIPv4 } from '../util/ip.js';
const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** An RFC 1123 label in lower case (Kubernetes' DNS_LABEL): what namespace, Service and hostnames are. */
export function isDNSLabel(s: string): boolean {
  return LABEL_RE.test(s);
}

/**
 * A hostname as ExternalName and search domains use it: dot-separated labels, 253 characters at most.
 * Underscores are tolerated inside labels because real-world names (`_dmarc`, some CNAME targets) carry
 * them; anything else outside [a-z0-9-] is rejected.
 */
export function isDNSName(s: string): boolean {
  const n = s.endsWith('.') ? s.slice(0, -1) : s;
  if (n.length === 0 || n.length > 253) return false;
  return n.split('.').every((l) => l.length > 0 && l.length <= 63 && /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/i.test(l));
}

/** Lower case, without the trailing dot; the root stays ''. */
export function normalizeName(s: string): string {
  const l = s.toLowerCase();
  return l.endsWith('.') ? l.slice(0, -1) : l;
}

/** 10.244.0.5 -> 10-244-0-5: the label Kubernetes uses for pods and unnamed endpoints. */
export function dashedIP(ip: string): string {
  return ip.replace(/\./g, '-');
}

/** 10-244-0-5 -> 10.244.0.5, or undefined when the label is not a well-formed dashed IPv4. */
export function undashIP(label: string): string | undefined {
  const ip = label.replace(/-/g, '.');
  return isIPv4(ip) && label.split('-').length === 4 ? ip : undefined;
}

/** 5.0.244.10.in-addr.arpa -> 10.244.0.5 (only complete /32 names). */
export function reverseToIPv4(name: string): string | undefined {
  const suffix = '.in-addr.arpa';
  if (!name.endsWith(suffix)) return undefined;
  const parts = name.slice(0, -suffix.length).split('.');
  if (parts.length !== 4) return undefined;
  const ip = parts.reverse().join('.');
  return isIPv4(ip) ? ip : undefined;
}

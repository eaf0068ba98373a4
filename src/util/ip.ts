// IPv4 arithmetic and address checks, one implementation for the whole code base: config, allocators,
// the proxier, DNS, validation and the agent's network all use these.

const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_RE = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);

/** Dotted-quad IPv4 without leading zeros (Kubernetes rejects `010.0.0.1` as ambiguous). */
export function isIPv4(value: unknown): boolean {
  return typeof value === 'string' && IPV4_RE.test(value);
}

/** An IPv6 literal as RFC 4291 writes it (strict: parsed by the WHATWG URL parser that ships with Node). */
export function isIPv6(value: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(value) || !value.includes(':')) return false;
  try {
    new URL(`http://[${value}]/`);
    return true;
  } catch {
    return false;
  }
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCIDR(cidr: string): { base: number; bits: number; size: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: expected a.b.c.d/n`);
  const bits = Number(m[2]);
  if (bits > 32) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: prefix length above 32`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (ipToInt(m[1]) & mask) >>> 0, bits, size: 2 ** (32 - bits) };
}

/** The CIDR with its host bits cleared: `10.0.0.5/24` -> `10.0.0.0/24`. */
export function normalizeCIDR(cidr: string): string {
  const { base, bits } = parseCIDR(cidr);
  return `${intToIp(base)}/${bits}`;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const { base, size } = parseCIDR(cidr);
  let n: number;
  try {
    n = ipToInt(ip);
  } catch {
    return false;
  }
  return n >= base && n < base + size;
}

/** Whether two CIDRs share an address; false when either is malformed. */
export function cidrsOverlap(a: string, b: string): boolean {
  try {
    const x = parseCIDR(a);
    const y = parseCIDR(b);
    return x.base < y.base + y.size && y.base < x.base + x.size;
  } catch {
    return false;
  }
}

/** The n-th address of a CIDR (0 = network address). */
export function nthAddress(cidr: string, n: number): string {
  const { base, size } = parseCIDR(cidr);
  if (n < 0 || n >= size) throw new Error(`address #${n} is outside ${cidr}`);
  return intToIp(base + n);
}

// Pod IPs chosen by the agent instead of by Docker: a sandbox created with its address knows it before
// it starts, so the Pod's app containers (whose env may name status.podIP) are created while the
// sandbox starts, and the sandbox needs no inspect afterwards. Addresses go round the node's pod range
// after the gateway, skipping those in use; a recently freed address comes back last, as Docker's own
// allocator does. Docker stays the judge: an address it refuses (a container we do not know holds it)
// makes the caller fall back to Docker's choice. Pure, apart from the cursor it keeps.

import { intToIp, ipToInt, parseCIDR } from '../util/ip.js';

export class PodIPAM {
  private readonly first: number;
  private readonly last: number;
  private next: number;
  /** Handed out and not yet visible in the caller's `used` (their sandbox is being made). */
  private readonly pending = new Set<string>();

  constructor(cidr: string) {
    const { base, size } = parseCIDR(cidr);
    // network address, gateway (.1) and broadcast are never Pod addresses
    this.first = base + 2;
    this.last = base + size - 2;
    this.next = this.first;
  }

  /** A free address (not in `used`, not pending), or undefined when the range is full. */
  pick(used: ReadonlySet<string>): string | undefined {
    const span = this.last - this.first + 1;
    if (span <= 0) return undefined;
    for (let i = 0; i < span; i++) {
      const n = this.first + ((this.next - this.first + i) % span);
      const ip = intToIp(n);
      if (used.has(ip) || this.pending.has(ip)) continue;
      this.next = n + 1 > this.last ? this.first : n + 1;
      this.pending.add(ip);
      return ip;
    }
    return undefined;
  }

  /** The sandbox holding `ip` is in the caller's view now (or was never made): no longer pending. */
  release(ip: string): void {
    this.pending.delete(ip);
  }

  /** For tests: the number of the next address tried. */
  get cursor(): string {
    return intToIp(this.next);
  }
}

export function inRange(cidr: string, ip: string): boolean {
  const { base, size } = parseCIDR(cidr);
  const n = ipToInt(ip);
  return n >= base && n < base + size;
}

// The allocators behind Service ClusterIPs, NodePorts and LoadBalancer pool addresses. Pure and in
// memory: the Service objects in the store are the persistent record (each allocation is written as
// part of one atomic Service write), and the state is rebuilt from them when the server starts.
//
// Like Kubernetes (KEP-3070, KEP-3668), a range is split into a small lower "static" band and the
// rest: dynamic allocations start at a random offset in the upper band and only fall back to the lower
// one when the upper is full, so a user who picks an address or port by hand from the low end rarely
// collides with one the server handed out.

import { cidrContains, intToIp, ipToInt, parseCIDR } from '../util/ip.js';

export type Random = () => number;

export class RangeFullError extends Error {
  constructor(what: string) {
    super(`range is full (${what})`);
    this.name = 'RangeFullError';
  }
}

export type AllocateResult = { ok: true } | { ok: false; reason: 'out-of-range' | 'allocated' | 'reserved'; owner?: string };

/**
 * Offsets 0..size-1 of some range; each allocated offset remembers its owner (the Service's uid or
 * key) so that a release can never free what another Service holds.
 */
export class OffsetAllocator {
  private readonly owners = new Map<number, string>();
  private readonly reserved = new Map<number, string>();
  /** Offsets below this are the static band (dynamic allocation uses them last). */
  readonly staticBand: number;

  constructor(
    readonly size: number,
    opts: { staticBand?: number; random?: Random } = {},
  ) {
    this.staticBand = Math.min(size, opts.staticBand ?? 0);
    this.random = opts.random ?? Math.random;
  }

  private readonly random: Random;

  /** Holds `offset` for `owner` only (e.g. the cluster DNS address for kube-system/kube-dns). Dynamic allocation never hands it out. */
  reserve(offset: number, owner: string): void {
    this.reserved.set(offset, owner);
  }

  get used(): number {
    return this.owners.size;
  }

  /** Offsets that can ever be handed out dynamically. */
  get free(): number {
    let reservedFree = 0;
    for (const o of this.reserved.keys()) if (!this.owners.has(o)) reservedFree++;
    return this.size - this.owners.size - reservedFree;
  }

  ownerOf(offset: number): string | undefined {
    return this.owners.get(offset);
  }

  has(offset: number): boolean {
    return this.owners.has(offset);
  }

  /** Takes a specific offset. Taking one the same owner already holds succeeds (idempotent). */
  allocate(offset: number, owner: string, reservationKey?: string): AllocateResult {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.size) return { ok: false, reason: 'out-of-range' };
    const held = this.owners.get(offset);
    if (held !== undefined) return held === owner ? { ok: true } : { ok: false, reason: 'allocated', owner: held };
    const r = this.reserved.get(offset);
    if (r !== undefined && r !== reservationKey) return { ok: false, reason: 'reserved', owner: r };
    this.owners.set(offset, owner);
    return { ok: true };
  }

  /** Takes a free offset: random in the upper band, else the lower one. Throws RangeFullError. */
  allocateNext(owner: string): number {
    const bands: [number, number][] = [
      [this.staticBand, this.size],
      [0, this.staticBand],
    ];
    for (const [lo, hi] of bands) {
      const n = hi - lo;
      if (n <= 0) continue;
      const start = Math.floor(this.random() * n);
      for (let i = 0; i < n; i++) {
        const o = lo + ((start + i) % n);
        if (this.owners.has(o) || this.reserved.has(o)) continue;
        this.owners.set(o, owner);
        return o;
      }
    }
    throw new RangeFullError(`${this.size} values`);
  }

  /** Frees `offset` if `owner` holds it (or unconditionally when owner is undefined). True when freed. */
  release(offset: number, owner?: string): boolean {
    const held = this.owners.get(offset);
    if (held === undefined || (owner !== undefined && held !== owner)) return false;
    this.owners.delete(offset);
    return true;
  }

  clear(): void {
    this.owners.clear();
  }

  /** Every allocated offset with its owner. */
  entries(): [number, string][] {
    return [...this.owners];
  }

  /** Restores a recorded allocation as it was (reservations were checked when it was made). */
  restore(offset: number, owner: string): void {
    if (Number.isInteger(offset) && offset >= 0 && offset < this.size) this.owners.set(offset, owner);
  }
}

/** Kubernetes' band size: size/16 for IPs (between 16 and 256), size/32 for ports (between 16 and 128). */
function band(size: number, divisor: number, max: number): number {
  return Math.min(Math.max(16, Math.floor(size / divisor)), max);
}

export interface IPAllocatorOptions {
  /** Skip the network and broadcast addresses (default true for ranges of 4 addresses or more). */
  skipEnds?: boolean;
  /** Largest range accepted, as a prefix length (default 12, Kubernetes' limit for a service CIDR). */
  maxPrefix?: number;
  random?: Random;
}

/** Addresses of one IPv4 CIDR. */
export class IPAllocator {
  readonly cidr: string;
  private readonly base: number;
  private readonly first: number;
  private readonly alloc: OffsetAllocator;

  constructor(cidr: string, opts: IPAllocatorOptions = {}) {
    const { base, bits, size } = parseCIDR(cidr);
    const maxPrefix = opts.maxPrefix ?? 12;
    if (bits < maxPrefix) throw new Error(`${cidr} is too large: the prefix length must be at least /${maxPrefix}`);
    this.cidr = `${intToIp(base)}/${bits}`;
    const skip = (opts.skipEnds ?? true) && size >= 4;
    this.base = base;
    this.first = skip ? 1 : 0;
    const usable = skip ? size - 2 : size;
    this.alloc = new OffsetAllocator(usable, { staticBand: band(usable, 16, 256), random: opts.random });
  }

  contains(ip: string): boolean {
    if (!cidrContains(this.cidr, ip)) return false;
    const o = this.offset(ip);
    return o >= 0 && o < this.alloc.size;
  }

  private offset(ip: string): number {
    return ipToInt(ip) - this.base - this.first;
  }

  private ip(offset: number): string {
    return intToIp(this.base + this.first + offset);
  }

  /** `ip` can only be taken by an allocate() naming `key` (dynamic allocation skips it). Must be in range. */
  reserve(ip: string, key: string): void {
    if (!this.contains(ip)) throw new Error(`reserved address ${ip} is not in ${this.cidr}`);
    this.alloc.reserve(this.offset(ip), key);
  }

  allocate(ip: string, owner: string, reservationKey?: string): AllocateResult {
    if (!this.contains(ip)) return { ok: false, reason: 'out-of-range' };
    return this.alloc.allocate(this.offset(ip), owner, reservationKey);
  }

  allocateNext(owner: string): string {
    try {
      return this.ip(this.alloc.allocateNext(owner));
    } catch (err) {
      if (err instanceof RangeFullError) throw new RangeFullError(this.cidr);
      throw err;
    }
  }

  release(ip: string, owner?: string): boolean {
    if (!this.contains(ip)) return false;
    return this.alloc.release(this.offset(ip), owner);
  }

  ownerOf(ip: string): string | undefined {
    return this.contains(ip) ? this.alloc.ownerOf(this.offset(ip)) : undefined;
  }

  get used(): number {
    return this.alloc.used;
  }

  get free(): number {
    return this.alloc.free;
  }

  clear(): void {
    this.alloc.clear();
  }

  /** Every allocated address with its owner. */
  entries(): [string, string][] {
    return this.alloc.entries().map(([o, owner]) => [this.ip(o), owner]);
  }

  restore(ip: string, owner: string): void {
    if (this.contains(ip)) this.alloc.restore(this.offset(ip), owner);
  }
}

/** Ports of a range such as 30000-32767. */
export class PortAllocator {
  private readonly alloc: OffsetAllocator;

  constructor(
    readonly min: number,
    readonly max: number,
    opts: { random?: Random } = {},
  ) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) throw new Error(`invalid port range ${min}-${max}`);
    const size = max - min + 1;
    this.alloc = new OffsetAllocator(size, { staticBand: band(size, 32, 128), random: opts.random });
  }

  get range(): string {
    return `${this.min}-${this.max}`;
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.min && port <= this.max;
  }

  allocate(port: number, owner: string): AllocateResult {
    if (!this.contains(port)) return { ok: false, reason: 'out-of-range' };
    return this.alloc.allocate(port - this.min, owner);
  }

  allocateNext(owner: string): number {
    try {
      return this.min + this.alloc.allocateNext(owner);
    } catch (err) {
      if (err instanceof RangeFullError) throw new RangeFullError(this.range);
      throw err;
    }
  }

  release(port: number, owner?: string): boolean {
    if (!this.contains(port)) return false;
    return this.alloc.release(port - this.min, owner);
  }

  ownerOf(port: number): string | undefined {
    return this.contains(port) ? this.alloc.ownerOf(port - this.min) : undefined;
  }

  get used(): number {
    return this.alloc.used;
  }

  get free(): number {
    return this.alloc.free;
  }

  clear(): void {
    this.alloc.clear();
  }

  /** Every allocated port with its owner. */
  entries(): [number, string][] {
    return this.alloc.entries().map(([o, owner]) => [this.min + o, owner]);
  }

  restore(port: number, owner: string): void {
    if (this.contains(port)) this.alloc.restore(port - this.min, owner);
  }
}

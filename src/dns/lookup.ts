// The pure half of `kubelite dns lookup`: which names a Pod's resolver would try for what the user
// typed, which server to ask from the host without ever sending a packet through the uplink, and how
// an answer is printed (a short dig). The sockets are in lookup-client.ts.

import type { Answer } from 'dns-packet';
import { isDNSName, normalizeName } from './names.js';
import { isIPv4 } from '../util/ip.js';

export const LOOKUP_TYPES = ['A', 'AAAA', 'SRV', 'PTR', 'CNAME', 'TXT', 'ANY'] as const;
export type LookupType = (typeof LOOKUP_TYPES)[number];

/** What a ClusterFirst Pod in `ns` searches (the host's own search domains left out). */
export function podSearchList(ns: string, domain: string): string[] {
  const d = normalizeName(domain);
  return [`${ns}.svc.${d}`, `svc.${d}`, d];
}

/**
 * The fully qualified names (with the trailing dot) a glibc resolver with `ndots` tries, in order: a
 * name with a trailing dot as it is; one with at least `ndots` dots as it is first, then with the
 * search list; others with the search list first. A PTR question for an IP becomes its reverse name.
 */
export function lookupCandidates(input: string, type: LookupType, search: readonly string[], ndots = 5): string[] {
  const name = input.trim();
  if (isIPv4(name) && type === 'PTR') return [reverseName(name)];
  if (!isDNSName(name)) throw new Error(`${JSON.stringify(input)} is not a DNS name (letters, digits, '-', '_' in dot-separated labels of at most 63 characters)`);
  if (name.endsWith('.')) return [name.toLowerCase()];
  const bare = name.toLowerCase();
  const dots = bare.split('.').length - 1;
  const searched = search.map((s) => `${bare}.${normalizeName(s)}.`);
  return dots >= ndots ? [`${bare}.`, ...searched] : [...searched, `${bare}.`];
}

/** 10.96.0.10 -> 10.0.96.10.in-addr.arpa. */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa.`;
}

export interface TriedName {
  name: string;
  rcode: string;
  answers: number;
}

export type Outcome =
  | { kind: 'answer'; name: string }
  | { kind: 'nodata'; name: string }
  | { kind: 'nxdomain' }
  | { kind: 'error'; name: string; rcode: string };

/**
 * What the resolver concludes from the names it tried (in order): the first with records wins; else a
 * name that exists without that type (NODATA) beats a server failure, which beats NXDOMAIN.
 */
export function lookupOutcome(tried: readonly TriedName[]): Outcome {
  // Records under any rcode mean the name exists: an ExternalName's CNAME comes back with the upstream's
  // NXDOMAIN/SERVFAIL for its target (as CoreDNS answers), and the alias is still the answer.
  const hit = tried.find((t) => t.answers > 0);
  if (hit) return { kind: 'answer', name: hit.name };
  const nodata = tried.find((t) => t.rcode === 'NOERROR');
  if (nodata) return { kind: 'nodata', name: nodata.name };
  const failed = tried.find((t) => t.rcode !== 'NXDOMAIN');
  if (failed) return { kind: 'error', name: failed.name, rcode: failed.rcode };
  return { kind: 'nxdomain' };
}

/** When to stop trying further names: as soon as one has records (NODATA, NXDOMAIN and failures go on, as glibc does). */
export function isFinal(t: TriedName): boolean {
  return t.answers > 0;
}

function fqdn(n: string): string {
  return n.endsWith('.') ? n : `${n}.`;
}

/** One record as dig prints it, single-spaced: `web.default.svc.cluster.local. 5 IN A 10.96.0.20`. */
export function formatRecord(rr: Answer): string {
  if (rr.type === 'OPT') return '';
  const head = `${fqdn(rr.name)} ${rr.ttl ?? 0} ${rr.class ?? 'IN'} ${rr.type}`;
  const d = rr.data as unknown;
  switch (rr.type) {
    case 'A':
    case 'AAAA':
      return `${head} ${String(d)}`;
    case 'CNAME':
    case 'PTR':
    case 'NS':
    case 'DNAME':
      return `${head} ${fqdn(String(d))}`;
    case 'SRV': {
      const s = d as { priority?: number; weight?: number; port: number; target: string };
      return `${head} ${s.priority ?? 0} ${s.weight ?? 0} ${s.port} ${fqdn(s.target)}`;
    }
    case 'SOA': {
      const s = d as { mname: string; rname: string; serial?: number; refresh?: number; retry?: number; expire?: number; minimum?: number };
      return `${head} ${fqdn(s.mname)} ${fqdn(s.rname)} ${s.serial ?? 0} ${s.refresh ?? 0} ${s.retry ?? 0} ${s.expire ?? 0} ${s.minimum ?? 0}`;
    }
    case 'TXT': {
      const parts = (Array.isArray(d) ? d : [d]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
      // Escaped like dig: quotes and backslashes; control bytes as \DDD so a record can never break the line.
      const esc = (s: string) => s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\${String(c.charCodeAt(0)).padStart(3, '0')}`);
      return `${head} ${parts.map((p) => `"${esc(p)}"`).join(' ')}`;
    }
    default:
      return `${head} ${Buffer.isBuffer(d) ? `\\# ${d.length} ${d.toString('hex')}` : JSON.stringify(d)}`;
  }
}

export interface ServerChoice {
  address: string;
  port: number;
  /** Said to the user: why this address. */
  via: string;
}

/** 'ip' or 'ip:port' (IPv4). */
export function parseServer(s: string): { address: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(s.trim());
  const port = m?.[2] ? Number(m[2]) : 53;
  if (!m || !isIPv4(m[1]) || port < 1 || port > 65535) throw new Error(`--server ${JSON.stringify(s)}: expected an IPv4 address, optionally with :port`);
  return { address: m[1], port };
}

/**
 * Which server the CLI asks. An explicit --server is taken as given. Otherwise the kube-dns ClusterIP,
 * as a Pod would, but only when this host routes it to a local device (the kubelite host); else the
 * address the server listens on, when it is one of this host's. Never an address whose packets would
 * leave through the uplink.
 */
export function chooseLookupServer(o: {
  explicit?: string;
  clusterIP?: string;
  /** The route to clusterIP stays on this host (see routeStaysLocal). */
  clusterIPLocal: boolean;
  /** The dns-listen annotation ('ip:port'). */
  listen?: string;
  /** The listen address is one of this host's. */
  listenLocal: boolean;
  /** The kube-dns Endpoints have an address (the VIP has a backend). */
  hasEndpoints: boolean;
}): ServerChoice | { error: string } {
  if (o.explicit) return { ...parseServer(o.explicit), via: '--server' };
  let listen: { address: string; port: number } | undefined;
  try {
    listen = o.listen ? parseServer(o.listen) : undefined;
  } catch {
    listen = undefined;
  }
  if (o.clusterIP && o.clusterIPLocal && o.hasEndpoints) return { address: o.clusterIP, port: 53, via: 'the kube-dns ClusterIP' };
  if (listen && o.listenLocal) return { ...listen, via: 'the DNS server\'s listen address' };
  if (!o.clusterIP) return { error: 'the Service kube-system/kube-dns has no ClusterIP: is the dns component disabled on the server?' };
  return { error: `the cluster DNS ${o.clusterIP} is not reachable from this host (it is routed only on the kubelite server's host): run this there, or pass --server` };
}

export interface RouteInfo {
  type?: string;
  dev?: string;
  gateway?: string;
}

/** The first route of `ip -json route get|show` output. */
export function parseIpRouteJson(text: string): RouteInfo | undefined {
  try {
    const arr = JSON.parse(text) as RouteInfo[];
    return Array.isArray(arr) && arr.length ? arr[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Devices kubelite creates (the service device klsvc*, the pod bridge kl0*), whatever the instance. */
const KUBELITE_DEVICE = /^kl(svc|0)(-[a-z0-9]{1,6})?$/;
/** The bridge of a `kubelite cluster` network (src/cluster/names.ts). */
const KUBELITE_CLUSTER_BRIDGE = /^klc-[a-z0-9-]{1,11}$/;

/**
 * A packet to this destination stays on the host: the address is local, or it is routed, without a
 * gateway, to a device kubelite owns (the service CIDR's device). Anything else could leave through
 * the uplink, so the CLI does not send there.
 */
export function routeStaysLocal(route: RouteInfo | undefined): boolean {
  if (!route) return false;
  if (route.type === 'local') return true;
  // a `kubelite cluster` range goes via the node container on the cluster's own bridge (klc-NAME)
  if (route.dev && KUBELITE_CLUSTER_BRIDGE.test(route.dev)) return true;
  return !route.gateway && !!route.dev && KUBELITE_DEVICE.test(route.dev);
}

// The Ingress routing decision, pure: which Ingresses are ours, and for a (host, path) which Service
// endpoints serve it. The proxy adapter encodes this same table into HAProxy maps; `match` is the
// reference semantics the tests hold both to.

import type { Endpoints, Ingress, IngressBackend, Secret, Service } from '../api/types.js';
import { validateTLSSecret } from './tls-secret.js';
import { INGRESS_PATH_RE } from '../api/validation/ingress.js';

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** Annotations that turn the HTTP -> HTTPS redirect off for the hosts an Ingress gives TLS to. */
export const SSL_REDIRECT_ANNOTATIONS = ['kubelite.io/ssl-redirect', 'nginx.ingress.kubernetes.io/ssl-redirect', 'ingress.kubernetes.io/ssl-redirect'];

export interface Upstream {
  ip: string;
  port: number;
}

export interface ResolvedBackend {
  /** `namespace/service:port`, stable across rebuilds: the proxy pools connections per key. */
  key: string;
  namespace: string;
  service: string;
  /** the Service port as the Ingress named it resolved to its number */
  servicePort: number;
  /** Ready endpoints only, sorted for a stable order. */
  upstreams: Upstream[];
}

export type RouteTarget =
  | { kind: 'backend'; backend: ResolvedBackend; ingress: string }
  | { kind: 'error'; status: 503; reason: string; ingress: string };

export interface PathRoute {
  /** normalized: Prefix paths carry no trailing slash (except `/`) */
  path: string;
  pathType: 'Exact' | 'Prefix';
  ingress: string;
  target: RouteTarget;
}

export interface HostRoutes {
  /** `foo.example.test`, `*.example.test`, or `` for rules without a host */
  host: string;
  exact: Map<string, PathRoute>;
  /** longest first, so the first whole-element match is the longest */
  prefixes: PathRoute[];
  /** when no path matches: this host's Ingress defaultBackend, else the table's */
  defaultTarget?: RouteTarget;
  tls: boolean;
  sslRedirect: boolean;
}

export interface TLSCert {
  /** `namespace/name` of the Secret */
  secret: string;
  ingress: string;
  /** SNI names this certificate serves (first Ingress by age wins a name) */
  hosts: string[];
  certPem: string;
  keyPem: string;
}

export interface RouteTable {
  hosts: Map<string, HostRoutes>;
  /** keyed by the suffix after `*.`: `example.test` for `*.example.test` */
  wildcards: Map<string, HostRoutes>;
  catchAll?: HostRoutes;
  defaultTarget?: RouteTarget;
  certs: TLSCert[];
  /** `namespace/name` of every Ingress the table was built from (ours, valid class) */
  ingresses: string[];
}

export interface RouteConflict { ingress: string; host: string; path: string; winner: string }
export interface TLSProblem { ingress: string; secret: string; reason: string }
export interface InvalidRule { ingress: string; reason: string }

export interface BuildInput {
  ingresses: Ingress[];
  services: Service[];
  endpoints: Endpoints[];
  secrets: Secret[];
  className: string;
  isDefaultClass: boolean;
}

export interface BuildResult {
  table: RouteTable;
  conflicts: RouteConflict[];
  tlsProblems: TLSProblem[];
  /** rules skipped because a host or path cannot be routed (not in the original brief: additive) */
  invalid: InvalidRule[];
}

export type MatchResult = { backend: ResolvedBackend; ingress: string } | { status: 404 | 503; reason: string };

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const HOST_RE = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const WILDCARD_RE = new RegExp(`^\\*\\.${DNS_LABEL}(\\.${DNS_LABEL})*$`);
// Paths end up as keys in HAProxy map files and runtime-API commands: only the characters admission
// allows (src/api/validation/ingress.ts) are routed, whatever is stored (an object written before
// admission checked them, or straight into the store).
const PATH_RE = INGRESS_PATH_RE;

export function isOurs(ing: Ingress, className: string, isDefaultClass: boolean): boolean {
  const byField = ing.spec?.ingressClassName;
  if (byField) return byField === className;
  const byAnnotation = ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (byAnnotation) return byAnnotation === className;
  return isDefaultClass;
}

function ingName(ing: Ingress): string {
  return `${ing.metadata.namespace ?? 'default'}/${ing.metadata.name}`;
}

/** Older first (creationTimestamp), then namespace/name, as ingress-nginx orders conflicting Ingresses. */
export function byAge(a: Ingress, b: Ingress): number {
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const na = ingName(a);
  const nb = ingName(b);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export function normalizeHost(h: string): string {
  let host = h.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

export function normalizePrefix(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function serviceIndex(services: Service[]): Map<string, Service> {
  const m = new Map<string, Service>();
  for (const s of services) m.set(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, s);
  return m;
}

function endpointsIndex(eps: Endpoints[]): Map<string, Endpoints> {
  const m = new Map<string, Endpoints>();
  for (const e of eps) m.set(`${e.metadata.namespace ?? 'default'}/${e.metadata.name}`, e);
  return m;
}

/**
 * Resolve an Ingress backend to the Service's Ready endpoints. A Service port named by the Ingress maps
 * to the Endpoints port of the same name, as kube-proxy and ingress-nginx do; an unnamed single port
 * matches the unnamed Endpoints port.
 */
export function resolveBackend(
  ns: string,
  ingress: string,
  backend: IngressBackend,
  services: Map<string, Service>,
  endpoints: Map<string, Endpoints>,
): RouteTarget {
  const err = (reason: string): RouteTarget => ({ kind: 'error', status: 503, reason, ingress });
  if (!backend.service) return err(`backend ${backend.resource ? `resource ${backend.resource.kind}/${backend.resource.name}` : '(empty)'} is not supported: only Service backends are`);
  const { name, port } = backend.service;
  const svcKey = `${ns}/${name}`;
  const svc = services.get(svcKey);
  if (!svc) return err(`service ${svcKey} does not exist`);
  if (svc.spec?.type === 'ExternalName') return err(`service ${svcKey} is of type ExternalName, which the kubelite ingress does not proxy to`);
  const wanted = port?.number !== undefined && port.number !== 0 ? String(port.number) : port?.name ?? '';
  const sp = (svc.spec?.ports ?? []).find((p) => (port?.number ? p.port === port.number : p.name === port?.name));
  if (!sp) return err(`service ${svcKey} has no port ${JSON.stringify(wanted)}`);
  const portName = sp.name ?? '';
  const ups: Upstream[] = [];
  const seen = new Set<string>();
  for (const subset of endpoints.get(svcKey)?.subsets ?? []) {
    const ep = (subset.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP');
    if (!ep) continue;
    for (const a of subset.addresses ?? []) {
      const id = `${a.ip}:${ep.port}`;
      if (seen.has(id)) continue;
      seen.add(id);
      ups.push({ ip: a.ip, port: ep.port });
    }
  }
  if (ups.length === 0) return err(`service ${svcKey} port ${sp.port} has no ready endpoints`);
  ups.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
  return {
    kind: 'backend',
    ingress,
    backend: { key: `${svcKey}:${sp.port}`, namespace: ns, service: name, servicePort: sp.port, upstreams: ups },
  };
}

function newHost(host: string): HostRoutes {
  return { host, exact: new Map(), prefixes: [], tls: false, sslRedirect: false };
}

export function buildRouteTable(input: BuildInput): BuildResult {
  const conflicts: RouteConflict[] = [];
  const tlsProblems: TLSProblem[] = [];
  const invalid: InvalidRule[] = [];
  const services = serviceIndex(input.services);
  const endpoints = endpointsIndex(input.endpoints);
  const secrets = new Map(input.secrets.map((s) => [`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, s]));
  const ours = input.ingresses.filter((i) => !i.metadata.deletionTimestamp && isOurs(i, input.className, input.isDefaultClass)).sort(byAge);

  const byHost = new Map<string, HostRoutes>();
  // which Ingress claimed each (host, pathType, path): the first by age wins
  const claims = new Map<string, string>();
  const hostDefaults = new Map<string, RouteTarget>();
  let defaultTarget: RouteTarget | undefined;

  for (const ing of ours) {
    const name = ingName(ing);
    const ns = ing.metadata.namespace ?? 'default';
    const spec = ing.spec ?? {};
    const ingDefault = spec.defaultBackend ? resolveBackend(ns, name, spec.defaultBackend, services, endpoints) : undefined;
    if (ingDefault && !defaultTarget) defaultTarget = ingDefault;
    for (const rule of spec.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      if (host !== '' && !HOST_RE.test(host) && !WILDCARD_RE.test(host)) {
        invalid.push({ ingress: name, reason: `host ${JSON.stringify(rule.host)} is not a DNS name or a *.wildcard` });
        continue;
      }
      let hr = byHost.get(host);
      if (!hr) byHost.set(host, (hr = newHost(host)));
      if (ingDefault && !hostDefaults.has(host)) hostDefaults.set(host, ingDefault);
      for (const p of rule.http?.paths ?? []) {
        const rawPath = p.path ?? '/';
        if (!PATH_RE.test(rawPath)) {
          invalid.push({ ingress: name, reason: `path ${JSON.stringify(rawPath)} must start with / and hold only URL path characters (no whitespace, control characters, quotes or ;#\\<>)` });
          continue;
        }
        // ImplementationSpecific is served as Prefix: the one interpretation the spec leaves open to us.
        const pathType = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
        const path = pathType === 'Prefix' ? normalizePrefix(rawPath) : rawPath;
        const claimKey = `${host}\u0000${pathType}\u0000${path}`;
        const winner = claims.get(claimKey);
        if (winner !== undefined) {
          if (winner !== name) conflicts.push({ ingress: name, host, path, winner });
          continue;
        }
        claims.set(claimKey, name);
        const route: PathRoute = { path, pathType, ingress: name, target: resolveBackend(ns, name, p.backend, services, endpoints) };
        if (pathType === 'Exact') hr.exact.set(path, route);
        else hr.prefixes.push(route);
      }
    }
  }

  // TLS: certificates by Ingress age; a name already served by an older Ingress's certificate stays there.
  const certs: TLSCert[] = [];
  const sniTaken = new Set<string>();
  const tlsHosts = new Map<string, boolean>(); // host -> redirect wanted
  for (const ing of ours) {
    const name = ingName(ing);
    const ns = ing.metadata.namespace ?? 'default';
    const redirectOff = SSL_REDIRECT_ANNOTATIONS.some((a) => ing.metadata.annotations?.[a] === 'false');
    for (const t of ing.spec?.tls ?? []) {
      const hosts = (t.hosts ?? []).map((h) => h.toLowerCase()).filter((h) => HOST_RE.test(h) || WILDCARD_RE.test(h));
      for (const h of hosts) tlsHosts.set(h, (tlsHosts.get(h) ?? true) && !redirectOff);
      if (!t.secretName) continue;
      const secretKey = `${ns}/${t.secretName}`;
      const checked = validateTLSSecret(secrets.get(secretKey));
      if (!checked.ok) {
        tlsProblems.push({ ingress: name, secret: secretKey, reason: checked.reason });
        continue;
      }
      const free = hosts.filter((h) => !sniTaken.has(h));
      for (const h of free) sniTaken.add(h);
      if (free.length > 0) certs.push({ secret: secretKey, ingress: name, hosts: free, certPem: checked.certPem, keyPem: checked.keyPem });
    }
  }

  const table: RouteTable = { hosts: new Map(), wildcards: new Map(), certs, ingresses: ours.map(ingName), defaultTarget };
  for (const [host, hr] of byHost) {
    hr.prefixes.sort((a, b) => b.path.length - a.path.length || (a.path < b.path ? -1 : 1));
    hr.defaultTarget = hostDefaults.get(host) ?? defaultTarget;
    if (host !== '' && tlsHosts.has(host)) {
      hr.tls = true;
      hr.sslRedirect = tlsHosts.get(host) === true;
    }
    if (host === '') table.catchAll = hr;
    else if (host.startsWith('*.')) table.wildcards.set(host.slice(2), hr);
    else table.hosts.set(host, hr);
  }
  return { table, conflicts, tlsProblems, invalid };
}

/** The HostRoutes serving a Host header: exact name, then a one-label wildcard, then rules without a host. */
export function lookupHost(table: RouteTable, hostHeader: string): HostRoutes | undefined {
  const host = normalizeHost(hostHeader);
  const exact = table.hosts.get(host);
  if (exact) return exact;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wild = table.wildcards.get(host.slice(dot + 1));
    if (wild) return wild;
  }
  return table.catchAll;
}

export function matchPath(hr: HostRoutes, path: string): PathRoute | undefined {
  const exact = hr.exact.get(path);
  if (exact) return exact;
  for (const p of hr.prefixes) {
    if (p.path === '/' || path === p.path || path.startsWith(`${p.path}/`)) return p;
  }
  return undefined;
}

function fromTarget(t: RouteTarget): MatchResult {
  return t.kind === 'backend' ? { backend: t.backend, ingress: t.ingress } : { status: t.status, reason: t.reason };
}

export function match(table: RouteTable, host: string, path: string): MatchResult {
  const q = path.indexOf('?');
  const p = q >= 0 ? path.slice(0, q) : path;
  const hr = lookupHost(table, host);
  const route = hr ? matchPath(hr, p) : undefined;
  if (route) return fromTarget(route.target);
  const def = hr ? hr.defaultTarget : table.defaultTarget;
  if (def) return fromTarget(def);
  return { status: 404, reason: `no Ingress rule matches host ${JSON.stringify(normalizeHost(host))} and path ${JSON.stringify(p)}` };
}

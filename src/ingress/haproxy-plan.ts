// Encodes a RouteTable into what HAProxy runs: a fixed configuration (frontends, a pool of generic
// backends with server slots), maps that route (host, path) to a backend, and certificate files.
// Pure. Routes and endpoints change through HAProxy's runtime API (map commits, server addr/state),
// so they take effect in milliseconds without a reload; only certificates and pool growth reload.

import { isIP } from 'node:net';
import type { CertStore } from './certs.js';
import type { HostRoutes, RouteTable, RouteTarget, Upstream } from './routes.js';

export interface HAProxyOptions {
  httpPort: number;
  httpsPort: number;
  bindAddress: string;
  /** directory for config, maps, certs and sockets; short (unix socket paths are limited to 108 bytes) */
  runDir: string;
  /** header read timeout: a client that never finishes its headers gets 408 */
  headerTimeoutMs: number;
  connectTimeoutMs: number;
  /** upstream response timeout: 504 */
  serverTimeoutMs: number;
  clientTimeoutMs: number;
  keepAliveTimeoutMs: number;
  tunnelTimeoutMs: number;
  /** how long an old worker may finish in-flight requests after a reload */
  hardStopAfterMs: number;
  maxConn: number;
  /** largest request head accepted; bigger ones are refused before reaching a backend */
  maxHeaderBytes: number;
}

export const DEFAULT_HAPROXY_OPTIONS: Omit<HAProxyOptions, 'httpPort' | 'httpsPort' | 'bindAddress' | 'runDir'> = {
  headerTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  serverTimeoutMs: 60_000,
  clientTimeoutMs: 60_000,
  keepAliveTimeoutMs: 60_000,
  tunnelTimeoutMs: 3_600_000,
  hardStopAfterMs: 300_000,
  maxConn: 8000,
  maxHeaderBytes: 16_384,
};

export const MAP_NAMES = ['hosts', 'wild', 'exact', 'prefix', 'hostdefault', 'redirect', 'desc'] as const;
export type MapName = (typeof MAP_NAMES)[number];
/** Commit order: targets before the keys that lead to them, hosts last. */
export const MAP_COMMIT_ORDER: readonly MapName[] = ['desc', 'exact', 'prefix', 'hostdefault', 'redirect', 'wild', 'hosts'];

export interface BackendSlot {
  /** `b<N>`: HAProxy backend name */
  name: string;
  /** the ResolvedBackend key, or `error:<reason>` for a 503 route */
  key: string;
  desc: string;
  /** one entry per server slot `s1..sK`; null = slot in maintenance */
  servers: (Upstream | null)[];
}

export interface HAPlan {
  backendCount: number;
  serverSlots: number;
  /** by backend key */
  backends: Map<string, BackendSlot>;
  maps: Record<MapName, [string, string][]>;
  certs: CertStore;
}

export type RuntimeStep =
  | { kind: 'server'; backend: string; slot: number; upstream: Upstream | null }
  | { kind: 'map-add' | 'map-set'; map: MapName; key: string; value: string }
  | { kind: 'map-del'; map: MapName; key: string }
  | { kind: 'cert-add'; id: string; hosts: string[]; pem: string }
  | { kind: 'cert-del'; id: string };

export type RuntimeDiff = { reload: true; reason: string } | { reload: false; steps: RuntimeStep[] };

const SPARE_BACKENDS = 16;
const MIN_SERVER_SLOTS = 8;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function targetKey(t: RouteTarget): string {
  return t.kind === 'backend' ? t.backend.key : `error:${t.reason}`;
}

// ---------------------------------------------------------------- what may reach HAProxy
// Admission refuses hostile Ingress paths, and the route table skips them, but this adapter does not
// rely on either: whatever is stored, no map line or runtime-API command is written from characters
// HAProxy could read as syntax. In a map file whitespace ends the key and a newline the entry; on the
// runtime API `;` separates commands, a newline ends them, `\` escapes, a trailing `<<` starts a
// payload; `#` comments, and quotes quote in HAProxy's other parsers.

/** What a map key may hold: URL-path and host characters only (INGRESS_PATH_RE's set plus `*`, `_`). */
const MAP_KEY_RE = /^[A-Za-z0-9\-._~!$&()*+,=:@%/|^[\]{}?]+$/;

export function isSafeMapKey(key: string): boolean {
  return MAP_KEY_RE.test(key);
}

/** A map value as written: printable ASCII, and none of the characters above (they become `?`). */
export function safeMapValue(value: string): string {
  const v = value.replace(/[^\x20-\x7e]|["#'`;\\<>]/g, '?').trim();
  return v === '' ? '?' : v;
}

/**
 * One word of a runtime-API command: a key passes isSafeMapKey, a value safeMapValue, so only spaces
 * need escaping; anything else here is a bug upstream, refused rather than sent.
 */
export function cliWord(word: string, kind: 'key' | 'value'): string {
  if (kind === 'key' ? !isSafeMapKey(word) : safeMapValue(word) !== word) {
    throw new Error(`refusing to send ${JSON.stringify(word.slice(0, 80))} to HAProxy's runtime API: not a safe map ${kind}`);
  }
  return word.replace(/ /g, '\\ ');
}

/** The runtime-API command of a map or server step (certificate steps have their own protocol). */
export function runtimeCommands(step: Exclude<RuntimeStep, { kind: 'cert-add' | 'cert-del' }>, mapFile: (m: MapName) => string): string[] {
  if (step.kind === 'server') {
    if (!/^b\d+$/.test(step.backend) || !Number.isInteger(step.slot) || step.slot < 0) throw new Error(`refusing server step for ${JSON.stringify(step.backend)}/${step.slot}`);
    const srv = `${step.backend}/s${step.slot + 1}`;
    if (!step.upstream) return [`set server ${srv} state maint`];
    if (!validUpstream(step.upstream)) throw new Error(`refusing upstream ${JSON.stringify(step.upstream)}`);
    return [`set server ${srv} state maint`, `set server ${srv} addr ${step.upstream.ip} port ${step.upstream.port}`, `set server ${srv} state ready`];
  }
  if (!(MAP_NAMES as readonly string[]).includes(step.map)) throw new Error(`refusing unknown map ${JSON.stringify(step.map)}`);
  if (step.kind === 'map-del') return [`del map ${mapFile(step.map)} ${cliWord(step.key, 'key')}`];
  return [`${step.kind === 'map-add' ? 'add' : 'set'} map ${mapFile(step.map)} ${cliWord(step.key, 'key')} ${cliWord(step.value, 'value')}`];
}

/** Only safe keys, values made safe: the last filter before map files and runtime commands. */
function safeEntries(entries: [string, string][]): [string, string][] {
  return entries.filter(([k]) => isSafeMapKey(k)).map(([k, v]) => [k, safeMapValue(v)]);
}

function targetDesc(t: RouteTarget): string {
  return safeMapValue(
    t.kind === 'backend'
      ? `503 Service Unavailable: service ${t.backend.namespace}/${t.backend.service} port ${t.backend.servicePort} has no ready endpoints`
      : `503 Service Unavailable: ${t.reason}`,
  );
}

/** Keep each upstream in its slot; new ones take slots that were already empty, then freed ones. */
export function assignSlots(prev: (Upstream | null)[] | undefined, ups: Upstream[], slots: number): (Upstream | null)[] {
  const id = (u: Upstream) => `${u.ip}:${u.port}`;
  const want = new Set(ups.map(id));
  const out: (Upstream | null)[] = new Array(slots).fill(null);
  const placed = new Set<string>();
  const p = prev ?? [];
  for (let i = 0; i < Math.min(p.length, slots); i++) {
    const u = p[i];
    if (u && want.has(id(u)) && !placed.has(id(u))) {
      out[i] = u;
      placed.add(id(u));
    }
  }
  const free = [...out.keys()].filter((i) => out[i] === null);
  free.sort((a, b) => Number(!!p[a]) - Number(!!p[b]) || a - b);
  let f = 0;
  for (const u of ups) {
    if (placed.has(id(u))) continue;
    if (f >= free.length) break;
    out[free[f++]] = u;
    placed.add(id(u));
  }
  return out;
}

// Endpoint addresses come from the API; only a well-formed IP and port may reach HAProxy's config.
function validUpstream(u: Upstream): boolean {
  return isIP(u.ip) !== 0 && Number.isInteger(u.port) && u.port > 0 && u.port < 65536;
}

function hostKeyOf(hr: HostRoutes): string {
  return hr.host === '' ? '_' : hr.host;
}

export function planHAProxy(table: RouteTable, certs: CertStore, prev?: HAPlan): HAPlan {
  const targets = new Map<string, RouteTarget>();
  const add = (t: RouteTarget | undefined) => {
    if (t && !targets.has(targetKey(t))) targets.set(targetKey(t), t);
  };
  const allHosts = [...table.hosts.values(), ...table.wildcards.values(), ...(table.catchAll ? [table.catchAll] : [])];
  for (const hr of allHosts) {
    for (const r of hr.exact.values()) add(r.target);
    for (const r of hr.prefixes) add(r.target);
    add(hr.defaultTarget);
  }
  add(table.defaultTarget);

  const maxUps = Math.max(0, ...[...targets.values()].map((t) => (t.kind === 'backend' ? t.backend.upstreams.length : 0)));
  const needSlots = Math.max(MIN_SERVER_SLOTS, nextPow2(maxUps));
  const serverSlots = prev && prev.serverSlots >= maxUps ? prev.serverSlots : needSlots;
  const backendCount = prev && prev.backendCount >= targets.size ? prev.backendCount : Math.ceil((targets.size + SPARE_BACKENDS) / 16) * 16;

  // Stable backend names: a key keeps its backend; a new key prefers a name unused in prev too, so
  // that maps still pointing at a just-freed backend never reach a different Service meanwhile.
  const backends = new Map<string, BackendSlot>();
  const used = new Set<string>();
  for (const [key, t] of targets) {
    const old = prev?.backends.get(key);
    if (old && Number(old.name.slice(1)) < backendCount) {
      backends.set(key, { name: old.name, key, desc: targetDesc(t), servers: [] });
      used.add(old.name);
    }
  }
  const prevNames = new Set([...(prev?.backends.values() ?? [])].map((b) => b.name));
  const freeNames = [...Array(backendCount).keys()].map((i) => `b${i}`).filter((n) => !used.has(n));
  freeNames.sort((a, b) => Number(prevNames.has(a)) - Number(prevNames.has(b)) || Number(a.slice(1)) - Number(b.slice(1)));
  let nf = 0;
  for (const [key, t] of targets) {
    if (!backends.has(key)) backends.set(key, { name: freeNames[nf++], key, desc: targetDesc(t), servers: [] });
    const slot = backends.get(key)!;
    const ups = t.kind === 'backend' ? t.backend.upstreams.filter(validUpstream) : [];
    slot.servers = assignSlots(prev?.backends.get(key)?.servers, ups, serverSlots);
  }

  const be = (t: RouteTarget) => backends.get(targetKey(t))!.name;
  const maps: Record<MapName, [string, string][]> = { hosts: [], wild: [], exact: [], prefix: [], hostdefault: [], redirect: [], desc: [] };
  for (const b of backends.values()) maps.desc.push([b.name, b.desc]);
  for (const hr of table.hosts.values()) maps.hosts.push([hr.host, hr.host]);
  for (const [suffix, hr] of table.wildcards) maps.wild.push([suffix, hr.host]);
  const prefixEntries: [string, string][] = [];
  for (const hr of allHosts) {
    const hk = hostKeyOf(hr);
    // Prefix /foo answers /foo itself through the exact map and /foo/... through the prefix map, so
    // that /foobar never matches; an Exact rule on the same path takes the exact key first.
    for (const r of hr.prefixes) {
      prefixEntries.push([`${hk}${r.path === '/' ? '/' : `${r.path}/`}`, be(r.target)]);
    }
    const exact = new Map<string, string>();
    for (const r of hr.exact.values()) exact.set(`${hk}${r.path}`, be(r.target));
    for (const r of hr.prefixes) if (!exact.has(`${hk}${r.path}`)) exact.set(`${hk}${r.path}`, be(r.target));
    maps.exact.push(...exact);
    if (hr.defaultTarget) maps.hostdefault.push([hk, be(hr.defaultTarget)]);
    if (hr.sslRedirect) maps.redirect.push([hk, '1']);
  }
  if (!table.catchAll && table.defaultTarget) maps.hostdefault.push(['_', be(table.defaultTarget)]);
  // HAProxy matches prefixes longest first; written that way the file also reads in match order.
  prefixEntries.sort((a, b) => b[0].length - a[0].length || (a[0] < b[0] ? -1 : 1));
  maps.prefix = prefixEntries;
  for (const m of MAP_NAMES) {
    maps[m] = safeEntries(maps[m]);
    if (m !== 'prefix') maps[m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  return { backendCount, serverSlots, backends, maps, certs };
}

export function mapFileText(entries: [string, string][]): string {
  // A plan's entries are safe already; checked again here because a map file line is the other way in.
  return safeEntries(entries)
    .map(([k, v]) => `${k} ${v}\n`)
    .join('');
}

/** Certificate and key as one PEM file, without blank lines (a blank line ends a CLI payload). */
export function pemFileText(certPem: string, keyPem: string): string {
  return `${certPem.trim()}\n${keyPem.trim()}\n`.replace(/\n\s*\n/g, '\n');
}

/** What the runtime API must do to move a running HAProxy from `prev` to `next`, or why it must reload. */
export function diffPlans(prev: HAPlan, next: HAPlan): RuntimeDiff {
  if (prev.backendCount !== next.backendCount) return { reload: true, reason: `backend pool ${prev.backendCount} -> ${next.backendCount}` };
  if (prev.serverSlots !== next.serverSlots) return { reload: true, reason: `server slots ${prev.serverSlots} -> ${next.serverSlots}` };
  if (prev.certs.defaultCert.id !== next.certs.defaultCert.id) return { reload: true, reason: 'default certificate changed' };
  // SNI certificates change at runtime; an id covers content and names, so a change is add + delete
  const prevIds = new Set(prev.certs.certs.map((c) => c.id));
  const nextIds = new Set(next.certs.certs.map((c) => c.id));
  const certAdds: RuntimeStep[] = next.certs.certs.filter((c) => !prevIds.has(c.id)).map((c) => ({ kind: 'cert-add', id: c.id, hosts: c.hosts, pem: pemFileText(c.certPem, c.keyPem) }));
  const certDels: RuntimeStep[] = prev.certs.certs.filter((c) => !nextIds.has(c.id)).map((c) => ({ kind: 'cert-del', id: c.id }));
  const serverSlots = (p: HAPlan) => {
    const m = new Map<string, Upstream | null>();
    for (const b of p.backends.values()) b.servers.forEach((u, i) => m.set(`${b.name}/${i}`, u));
    return m;
  };
  const before = serverSlots(prev);
  const after = serverSlots(next);
  const enable: RuntimeStep[] = [];
  const disable: RuntimeStep[] = [];
  for (const [k, u] of after) {
    const old = before.get(k) ?? null;
    if (u && (!old || old.ip !== u.ip || old.port !== u.port)) {
      const [backend, slot] = k.split('/');
      enable.push({ kind: 'server', backend, slot: Number(slot), upstream: u });
    }
  }
  for (const [k, old] of before) {
    if (old && !after.get(k)) {
      const [backend, slot] = k.split('/');
      disable.push({ kind: 'server', backend, slot: Number(slot), upstream: null });
    }
  }
  // Entry by entry: each key switches atomically and always to a backend whose servers are set, so
  // a request sees the old route or the new one. Additions go targets-first, removals hosts-first.
  const upserts: RuntimeStep[] = [];
  const deletes: RuntimeStep[] = [];
  for (const m of MAP_COMMIT_ORDER) {
    const old = new Map(prev.maps[m]);
    for (const [key, value] of next.maps[m]) {
      const was = old.get(key);
      if (was === undefined) upserts.push({ kind: 'map-add', map: m, key, value });
      else if (was !== value) upserts.push({ kind: 'map-set', map: m, key, value });
    }
    const now = new Set(next.maps[m].map(([k]) => k));
    for (const key of old.keys()) if (!now.has(key)) deletes.unshift({ kind: 'map-del', map: m, key });
  }
  const maps = [...upserts, ...deletes];
  return { reload: false, steps: [...certAdds, ...enable, ...maps, ...disable, ...certDels] };
}

function ms(n: number): string {
  return `${Math.max(1, Math.round(n))}ms`;
}

const SAFE_PATH = /^\/[A-Za-z0-9._\/-]+$/;

export function renderConfig(plan: HAPlan, o: HAProxyOptions): string {
  if (!SAFE_PATH.test(o.runDir)) throw new Error(`ingress run directory ${JSON.stringify(o.runDir)} must be an absolute path of [A-Za-z0-9._/-]`);
  const bind = o.bindAddress.includes(':') ? `[${o.bindAddress}]` : o.bindAddress;
  if (!/^[0-9a-fA-F.:]+$/.test(o.bindAddress)) throw new Error(`ingress bind address ${JSON.stringify(o.bindAddress)} is not an IP address`);
  const map = (m: MapName) => `${o.runDir}/maps/${m}.map`;
  const httpsSuffix = o.httpsPort === 443 ? '' : `:${o.httpsPort}`;
  const routing = (proto: 'http' | 'https', port: number) => [
    `  http-request set-var(txn.host) req.hdr(host),field(1,:),lower`,
    `  http-request set-var(txn.hk) var(txn.host),map_str(${map('hosts')})`,
    `  http-request set-var(txn.hk) var(txn.host),field(2,.,0),map_str(${map('wild')}) if !{ var(txn.hk) -m found }`,
    `  http-request set-var(txn.hk) str(_) if !{ var(txn.hk) -m found }`,
    ...(proto === 'http'
      ? [`  http-request redirect location https://%[var(txn.host)]${httpsSuffix}%[capture.req.uri] code 308 if { var(txn.hk),map_str(${map('redirect')}) -m found }`]
      : []),
    `  http-request set-var(txn.path) path`,
    `  http-request set-var(txn.key) var(txn.hk),concat(,txn.path)`,
    `  http-request set-var(txn.be) var(txn.key),map_str(${map('exact')})`,
    `  http-request set-var(txn.be) var(txn.key),map_beg(${map('prefix')}) if !{ var(txn.be) -m found }`,
    `  http-request set-var(txn.be) var(txn.hk),map_str(${map('hostdefault')}) if !{ var(txn.be) -m found }`,
    // ingress-nginx does not trust client-sent X-Forwarded-* by default: replace, never append.
    `  http-request set-header X-Forwarded-For %[src]`,
    `  http-request set-header X-Real-IP %[src]`,
    `  http-request set-header X-Forwarded-Proto ${proto}`,
    `  http-request set-header X-Forwarded-Host %[req.hdr(host)]`,
    `  http-request set-header X-Forwarded-Port ${port}`,
    `  use_backend %[var(txn.be)] if { var(txn.be) -m found }`,
    `  default_backend kl_404`,
  ];
  const lines: string[] = [
    '# rendered by kubelite: do not edit, every change is overwritten',
    'global',
    `  maxconn ${o.maxConn}`,
    // highest priority for the runtime API: a route change must not queue behind traffic
    `  stats socket ${o.runDir}/admin.sock mode 600 level admin expose-fd listeners nice -1024`,
    `  stats timeout 30s`,
    `  hard-stop-after ${ms(o.hardStopAfterMs)}`,
    // the request head must fit in one buffer; tune.maxrewrite is reserved for added headers
    `  tune.bufsize ${o.maxHeaderBytes + 1024 + 4096}`,
    `  tune.maxrewrite 4096`,
    `  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets`,
    '',
    'defaults',
    '  mode http',
    `  timeout http-request ${ms(o.headerTimeoutMs)}`,
    `  timeout connect ${ms(o.connectTimeoutMs)}`,
    `  timeout server ${ms(o.serverTimeoutMs)}`,
    `  timeout client ${ms(o.clientTimeoutMs)}`,
    `  timeout http-keep-alive ${ms(o.keepAliveTimeoutMs)}`,
    `  timeout tunnel ${ms(o.tunnelTimeoutMs)}`,
    '  timeout client-fin 5s',
    // a reload must not cut idle keep-alive clients: they get "Connection: close" on their next answer
    '  option idle-close-on-response',
    // a refused connection (a Pod going away before its Endpoints update) is retried on another one
    '  retries 3',
    '  option redispatch 1',
    '  http-reuse safe',
    '  balance roundrobin',
    '  http-error status 400 content-type text/plain string "400 Bad Request: malformed or oversized request head\\n"',
    '  http-error status 408 content-type text/plain string "408 Request Timeout: the request head did not arrive in time\\n"',
    '  http-error status 502 content-type text/plain string "502 Bad Gateway: the backend closed the connection or sent an invalid response\\n"',
    '  http-error status 503 content-type text/plain string "503 Service Unavailable: no backend could take the request\\n"',
    '  http-error status 504 content-type text/plain string "504 Gateway Timeout: the backend did not answer in time\\n"',
    '',
    'frontend http',
    `  bind ${bind}:${o.httpPort}`,
    ...routing('http', o.httpPort),
    '',
    'frontend https',
    `  bind ${bind}:${o.httpsPort} ssl crt ${o.runDir}/certs/default.pem crt-list ${o.runDir}/certs/list.txt alpn h2,http/1.1`,
    ...routing('https', o.httpsPort),
    '',
    'backend kl_404',
    '  http-request return status 404 content-type text/plain string "404 Not Found: no Ingress rule matches this host and path (kubelite default backend)\\n"',
    '',
  ];
  const byName = new Map([...plan.backends.values()].map((b) => [b.name, b]));
  for (let i = 0; i < plan.backendCount; i++) {
    const name = `b${i}`;
    const b = byName.get(name);
    lines.push(`backend ${name}`);
    lines.push(`  http-request return status 503 content-type text/plain lf-string "%[be_name,map(${map('desc')})]\\n" if { nbsrv eq 0 }`);
    for (let s = 0; s < plan.serverSlots; s++) {
      const u = b?.servers[s];
      // empty slots park on a loopback placeholder in maintenance: never contacted
      lines.push(u ? `  server s${s + 1} ${u.ip.includes(':') ? `[${u.ip}]` : u.ip}:${u.port}` : `  server s${s + 1} 127.0.0.1:1 disabled`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function crtListText(certs: CertStore, runDir: string): string {
  return certs.certs.map((c) => `${runDir}/certs/${c.id}.pem ${c.hosts.join(' ')}\n`).join('');
}

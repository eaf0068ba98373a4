// The resolv.conf a Pod gets, following the kubelet (pkg/kubelet/network/dns): dnsPolicy picks the
// base (cluster DNS, the host's file, or nothing), dnsConfig is merged on top, and the glibc limits are
// applied. Pure: the agent writes the result into the container.

import net from 'node:net';
import type { Pod } from '../api/types.js';
import { isDNSName, normalizeName } from './names.js';

export const MAX_NAMESERVERS = 3;
export const MAX_SEARCHES = 32;
export const MAX_SEARCH_CHARS = 2048;

export interface PodResolvConfig {
  clusterDNS: string;
  domain: string;
  /** Text of the host's /etc/resolv.conf (the base of dnsPolicy Default). */
  hostResolvConf: string;
}

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: { name: string; value?: string }[];
}

/** resolv.conf(5): the last `search`/`domain` line wins, `options` accumulate, unknown lines are ignored. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [kw, ...args] = line.split(/\s+/);
    if (kw === 'nameserver' && args[0]) {
      const ip = args[0].replace(/%.*$/, '');
      if (net.isIP(ip) && !out.nameservers.includes(ip)) out.nameservers.push(ip);
    } else if (kw === 'search' || kw === 'domain') {
      out.searches = args.filter((a) => a !== '.');
    } else if (kw === 'options') {
      for (const o of args) {
        const i = o.indexOf(':');
        const name = i < 0 ? o : o.slice(0, i);
        const value = i < 0 ? undefined : o.slice(i + 1);
        const at = out.options.findIndex((x) => x.name === name);
        if (at >= 0) out.options.splice(at, 1);
        out.options.push(value === undefined ? { name } : { name, value });
      }
    }
  }
  return out;
}

export function podResolvConf(pod: Pod, cfg: PodResolvConfig): string {
  return renderResolvConf(podDNSConfig(pod, cfg));
}

/** The structured form, for callers that want to inspect it. */
export function podDNSConfig(pod: Pod, cfg: PodResolvConfig): ResolvConf {
  const spec = pod.spec ?? { containers: [] };
  const ns = pod.metadata.namespace ?? 'default';
  const domain = normalizeName(cfg.domain);
  const host = parseResolvConf(cfg.hostResolvConf);
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  let conf: ResolvConf;
  // As in the kubelet, ClusterFirst on the host network means Default; ClusterFirstWithHostNet does not.
  const cluster = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !spec.hostNetwork);
  if (policy === 'None') {
    conf = { nameservers: [], searches: [], options: [] };
  } else if (cluster) {
    conf = {
      nameservers: [cfg.clusterDNS],
      // The kubelet appends the host's search domains after the cluster ones.
      searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches],
      options: [{ name: 'ndots', value: '5' }],
    };
  } else {
    let servers = host.nameservers;
    // A loopback stub (127.0.0.53, a local dnsmasq) is unreachable from the Pod's own network
    // namespace. Docker substitutes public resolvers; we fall back to cluster DNS, which forwards to
    // those same host resolvers, so the Pod still resolves what the host resolves.
    if (!spec.hostNetwork) {
      servers = servers.filter((s) => !isLoopback(s));
      if (servers.length === 0) servers = [cfg.clusterDNS];
    }
    conf = { nameservers: servers, searches: host.searches, options: host.options };
  }

  const dc = spec.dnsConfig;
  if (dc) {
    conf = {
      nameservers: [...conf.nameservers, ...(dc.nameservers ?? [])],
      searches: [...conf.searches, ...(dc.searches ?? [])],
      options: mergeOptions(conf.options, dc.options ?? []),
    };
  }
  return {
    nameservers: uniq(conf.nameservers.filter((s) => net.isIP(s) !== 0)).slice(0, MAX_NAMESERVERS),
    searches: limitSearches(uniq(conf.searches.map(normalizeName).filter(isDNSName))),
    options: conf.options.filter(validOption),
  };
}

export function renderResolvConf(conf: ResolvConf): string {
  const lines: string[] = [];
  for (const s of conf.nameservers) lines.push(`nameserver ${s}`);
  if (conf.searches.length) lines.push(`search ${conf.searches.join(' ')}`);
  if (conf.options.length) lines.push(`options ${conf.options.map((o) => (o.value === undefined || o.value === '' ? o.name : `${o.name}:${o.value}`)).join(' ')}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Options are merged by name: a dnsConfig option replaces the base one of the same name. */
function mergeOptions(base: { name: string; value?: string }[], extra: { name: string; value?: string }[]): { name: string; value?: string }[] {
  const out = base.map((o) => ({ ...o }));
  for (const o of extra) {
    const at = out.findIndex((x) => x.name === o.name);
    const v = o.value === undefined ? { name: o.name } : { name: o.name, value: o.value };
    if (at >= 0) out[at] = v;
    else out.push(v);
  }
  return out;
}

function limitSearches(s: string[]): string[] {
  const out: string[] = [];
  let chars = 0;
  for (const d of s) {
    const add = d.length + (out.length ? 1 : 0);
    if (out.length >= MAX_SEARCHES || chars + add > MAX_SEARCH_CHARS) break;
    out.push(d);
    chars += add;
  }
  return out;
}

// Names and values end up on one line of a file glibc parses: no whitespace, no comment characters.
function validOption(o: { name: string; value?: string }): boolean {
  return /^[A-Za-z0-9_-]+$/.test(o.name) && (o.value === undefined || /^[A-Za-z0-9_.:-]*$/.test(o.value));
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

// The cluster's DNS records as a pure, incrementally updated index (the model is CoreDNS's kubernetes
// plugin and Kubernetes' "DNS-Based Service Discovery" specification). The watch feeds Services,
// Endpoints and Pods in; `answer()` turns one question into an answer without I/O, so every record
// kind and every negative case is unit-tested without sockets. Only the few fields DNS needs are kept
// per object: with 10,000 Services the index must stay small.

import type { Answer } from 'dns-packet';
import type { Endpoints, Pod, Service } from '../api/types.js';
import { dashedIP, isDNSLabel, isDNSName, normalizeName, reverseToIPv4, undashIP } from './names.js';
import { cidrContains, isIPv4 } from '../util/ip.js';

/** A resource record (OPT, a pseudo-record, is not one). */
export type RR = Exclude<Answer, { type: 'OPT' }>;
export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'NOTIMP' | 'FORMERR';

export interface DNSQuestion {
  name: string;
  /** 'A', 'SRV', ... ; unknown numeric types as 'TYPE65' (or dns-packet's 'UNKNOWN_65'). */
  type: string;
  /** Defaults to 'IN'. */
  class?: string;
}

export interface DNSAnswer {
  rcode: Rcode;
  answers: RR[];
  authority: RR[];
  /** Glue for SRV targets. */
  additional?: RR[];
  /** The question (or cnameTarget) is not ours: resolve it upstream. */
  forward?: boolean;
  /** An ExternalName's target, to be resolved (upstream or here) and appended to `answers`. */
  cnameTarget?: string;
  /** Answers from the cluster zone carry AA, forwarded ones do not. */
  authoritative?: boolean;
}

export interface AnswerConfig {
  /** Cluster domain, e.g. 'cluster.local'. */
  domain: string;
  /** TTL of every record and of negative answers (SOA minimum). */
  ttl: number;
  /**
   * `<a-b-c-d>.<ns>.pod.<domain>`: 'verified' (default) answers only for a Pod that has that IP in that
   * namespace, 'insecure' answers any well-formed address (CoreDNS' `pods insecure`), 'disabled' none.
   */
  pods?: 'verified' | 'insecure' | 'disabled';
  /**
   * Reverse names inside these CIDRs (service and pod CIDRs) are ours: an unknown address is NXDOMAIN.
   * Outside them, unknown reverse names are forwarded (CoreDNS' `fallthrough in-addr.arpa`).
   */
  reverseCIDRs?: string[];
}

interface PortRec {
  /** lower case; '' for an unnamed port */
  name: string;
  /** 'tcp' | 'udp' | 'sctp' */
  proto: string;
  port: number;
}

interface SvcRec {
  /** '' for a headless Service */
  ip: string;
  ext?: string;
  ports: PortRec[];
  pna: boolean;
}

interface AddrRec {
  ip: string;
  /** The endpoint's label under a headless Service: its hostname, else its dashed IP. */
  host: string;
  ready: boolean;
}

interface SubsetRec {
  addrs: AddrRec[];
  ports: PortRec[];
}

interface PodRec {
  ns: string;
  ip: string;
  host?: string;
  sub?: string;
  ready: boolean;
}

interface Srv {
  port: number;
  target: string;
  ip?: string;
}

const SPEC_VERSION = '1.1.0';

/** The incremental index. Mutators return true when DNS-visible data changed (and bump `generation`). */
export class ClusterDNSIndex {
  private readonly svcs = new Map<string, Map<string, SvcRec>>();
  private readonly svcByIP = new Map<string, string>();
  private readonly eps = new Map<string, SubsetRec[]>();
  private readonly epByIP = new Map<string, Set<string>>();
  private readonly pods = new Map<string, PodRec>();
  private readonly podsByIP = new Map<string, Set<string>>();
  private readonly podCountByNs = new Map<string, number>();
  private readonly podHosts = new Map<string, Set<string>>();
  private gen = 0;
  private serialNo = Math.floor(Date.now() / 1000);

  /** Bumped on every change: encoded responses cached under an older generation are stale. */
  get generation(): number {
    return this.gen;
  }

  /** SOA serial: the unix time of the last change, as CoreDNS does. */
  get serial(): number {
    return this.serialNo >>> 0;
  }

  get size(): { services: number; endpoints: number; pods: number } {
    let services = 0;
    for (const m of this.svcs.values()) services += m.size;
    return { services, endpoints: this.eps.size, pods: this.pods.size };
  }

  private bump(): true {
    this.gen++;
    this.serialNo = Math.max(this.serialNo + 1, Math.floor(Date.now() / 1000));
    return true;
  }

  // ---------- Services ----------

  upsertService(svc: Service): boolean {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    if (!isDNSLabel(ns) || !isDNSLabel(name)) return false;
    const rec = serviceRecord(svc);
    if (!rec) return this.deleteService(ns, name);
    let byName = this.svcs.get(ns);
    const old = byName?.get(name);
    if (old && sameSvc(old, rec)) return false;
    if (!byName) this.svcs.set(ns, (byName = new Map()));
    const key = `${ns}/${name}`;
    if (old?.ip && this.svcByIP.get(old.ip) === key) this.svcByIP.delete(old.ip);
    byName.set(name, rec);
    if (rec.ip) this.svcByIP.set(rec.ip, key);
    return this.bump();
  }

  deleteService(ns: string, name: string): boolean {
    const byName = this.svcs.get(ns);
    const old = byName?.get(name);
    if (!byName || !old) return false;
    byName.delete(name);
    if (byName.size === 0) this.svcs.delete(ns);
    const key = `${ns}/${name}`;
    if (old.ip && this.svcByIP.get(old.ip) === key) this.svcByIP.delete(old.ip);
    return this.bump();
  }

  // ---------- Endpoints ----------

  upsertEndpoints(ep: Endpoints): boolean {
    const ns = ep.metadata.namespace ?? 'default';
    const name = ep.metadata.name ?? '';
    if (!isDNSLabel(ns) || !isDNSLabel(name)) return false;
    const key = `${ns}/${name}`;
    const rec = endpointsRecord(ep);
    const old = this.eps.get(key);
    if (old && JSON.stringify(old) === JSON.stringify(rec)) return false;
    if (old) this.unindexEndpoints(key, old);
    this.eps.set(key, rec);
    for (const s of rec) for (const a of s.addrs) addTo(this.epByIP, a.ip, key);
    return this.bump();
  }

  deleteEndpoints(ns: string, name: string): boolean {
    const key = `${ns}/${name}`;
    const old = this.eps.get(key);
    if (!old) return false;
    this.unindexEndpoints(key, old);
    this.eps.delete(key);
    return this.bump();
  }

  private unindexEndpoints(key: string, subsets: SubsetRec[]): void {
    for (const s of subsets) for (const a of s.addrs) removeFrom(this.epByIP, a.ip, key);
  }

  // ---------- Pods ----------

  upsertPod(pod: Pod): boolean {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    const rec = podRecord(pod, ns);
    if (!rec || !isDNSLabel(ns)) return this.deletePod(ns, name);
    const key = `${ns}/${name}`;
    const old = this.pods.get(key);
    if (old && old.ip === rec.ip && old.host === rec.host && old.sub === rec.sub && old.ready === rec.ready) return false;
    if (old) this.unindexPod(key, old);
    this.pods.set(key, rec);
    addTo(this.podsByIP, rec.ip, key);
    this.podCountByNs.set(ns, (this.podCountByNs.get(ns) ?? 0) + 1);
    if (rec.host && rec.sub) addTo(this.podHosts, `${ns}/${rec.sub}`, key);
    return this.bump();
  }

  deletePod(ns: string, name: string): boolean {
    const key = `${ns}/${name}`;
    const old = this.pods.get(key);
    if (!old) return false;
    this.unindexPod(key, old);
    this.pods.delete(key);
    return this.bump();
  }

  private unindexPod(key: string, rec: PodRec): void {
    removeFrom(this.podsByIP, rec.ip, key);
    const n = (this.podCountByNs.get(rec.ns) ?? 1) - 1;
    if (n <= 0) this.podCountByNs.delete(rec.ns);
    else this.podCountByNs.set(rec.ns, n);
    if (rec.host && rec.sub) removeFrom(this.podHosts, `${rec.ns}/${rec.sub}`, key);
  }

  clear(): void {
    this.svcs.clear();
    this.svcByIP.clear();
    this.eps.clear();
    this.epByIP.clear();
    this.pods.clear();
    this.podsByIP.clear();
    this.podCountByNs.clear();
    this.podHosts.clear();
    this.bump();
  }

  // ---------- answering ----------

  answer(question: DNSQuestion, cfg: AnswerConfig): DNSAnswer {
    const qclass = (question.class ?? 'IN').toUpperCase();
    // CoreDNS answers only class IN from the kubernetes plugin; ANY is a meta-class it does not implement.
    if (qclass === 'ANY' || qclass === 'UNKNOWN_255') return negative('NOTIMP');
    if (qclass !== 'IN') return negative('REFUSED');
    const qtype = question.type.toUpperCase();
    // Zone transfers of a generated zone make no sense (and would dump every Service).
    if (qtype === 'AXFR' || qtype === 'IXFR') return negative('REFUSED');

    const domain = normalizeName(cfg.domain);
    const name = normalizeName(question.name);
    if (name === 'in-addr.arpa' || name.endsWith('.in-addr.arpa')) return this.answerReverse(name, qtype, cfg, domain);
    let rel: string[];
    if (name === domain) rel = [];
    else if (name.endsWith(`.${domain}`)) rel = name.slice(0, -(domain.length + 1)).split('.');
    else return { rcode: 'NOERROR', answers: [], authority: [], forward: true };

    const node = this.lookup(rel, name, cfg, domain);
    const soa = soaRR(domain, domain, cfg.ttl, this.serial);
    if (!node) return { rcode: 'NXDOMAIN', answers: [], authority: [soa], authoritative: true };
    return select(node, name, qtype, cfg.ttl, soa);
  }

  private lookup(rel: string[], fqdn: string, cfg: AnswerConfig, domain: string): Node | undefined {
    const podsMode = cfg.pods ?? 'verified';
    switch (rel.length) {
      case 0:
        return { soa: true, ns: `ns.dns.${domain}` };
      case 1: {
        const [l] = rel;
        if (l === 'svc') return this.svcs.size > 0 ? {} : undefined;
        if (l === 'pod') return podsMode === 'insecure' || (podsMode === 'verified' && this.pods.size > 0) ? {} : undefined;
        if (l === 'dns-version') return { txt: SPEC_VERSION };
        if (l === 'dns') return {};
        return undefined;
      }
      case 2: {
        const [a, b] = rel;
        if (b === 'svc') return this.svcs.has(a) ? {} : undefined;
        if (b === 'pod') {
          if (podsMode === 'insecure') return isDNSLabel(a) ? {} : undefined;
          return podsMode === 'verified' && this.podCountByNs.has(a) ? {} : undefined;
        }
        if (a === 'ns' && b === 'dns') {
          const ip = this.svcs.get('kube-system')?.get('kube-dns')?.ip;
          return { a: () => (ip ? [ip] : []) };
        }
        return undefined;
      }
      case 3: {
        const [a, ns, kind] = rel;
        if (kind === 'svc') return this.serviceNode(ns, a, fqdn);
        if (kind === 'pod') return this.podNode(ns, a, podsMode);
        return undefined;
      }
      case 4: {
        const [a, svcName, ns, kind] = rel;
        if (kind !== 'svc') return undefined;
        const svc = this.svcs.get(ns)?.get(svcName);
        if (!svc || svc.ext !== undefined) return undefined;
        if (a.startsWith('_')) {
          // `_tcp.<svc>...` is an empty non-terminal when some named port uses that protocol.
          const proto = a.slice(1);
          return svc.ports.some((p) => p.name && p.proto === proto) ? {} : undefined;
        }
        if (svc.ip !== '') return undefined;
        const ips = this.endpointHostIPs(ns, svcName, svc, a);
        return ips.length ? { a: () => ips } : undefined;
      }
      case 5: {
        const [portL, protoL, svcName, ns, kind] = rel;
        if (kind !== 'svc' || !portL.startsWith('_') || !protoL.startsWith('_')) return undefined;
        const svc = this.svcs.get(ns)?.get(svcName);
        if (!svc || svc.ext !== undefined) return undefined;
        const port = portL.slice(1);
        const proto = protoL.slice(1);
        if (!svc.ports.some((p) => p.name === port && p.proto === proto)) return undefined;
        const svcFqdn = fqdn.split('.').slice(2).join('.');
        return { srv: () => this.srvRecords(ns, svcName, svc, svcFqdn, (p) => p.name === port && p.proto === proto) };
      }
      default:
        return undefined;
    }
  }

  private serviceNode(ns: string, name: string, fqdn: string): Node | undefined {
    const svc = this.svcs.get(ns)?.get(name);
    if (!svc) return undefined;
    if (svc.ext !== undefined) return { cname: svc.ext };
    if (svc.ip) {
      const ip = svc.ip;
      return { a: () => [ip], srv: () => this.srvRecords(ns, name, svc, fqdn, () => true) };
    }
    return {
      a: () => uniq(this.readyAddrs(ns, name, svc).map((x) => x.ip)),
      srv: () => this.srvRecords(ns, name, svc, fqdn, () => true),
    };
  }

  private podNode(ns: string, label: string, mode: string): Node | undefined {
    if (mode === 'disabled') return undefined;
    const ip = undashIP(label);
    if (!ip) return undefined;
    if (mode === 'insecure') return isDNSLabel(ns) ? { a: () => [ip] } : undefined;
    for (const key of this.podsByIP.get(ip) ?? []) if (this.pods.get(key)?.ns === ns) return { a: () => [ip] };
    return undefined;
  }

  /** Addresses a headless Service publishes: Ready ones, plus not-ready ones when it asks for that. */
  private readyAddrs(ns: string, name: string, svc: SvcRec): AddrRec[] {
    const out: AddrRec[] = [];
    for (const s of this.eps.get(`${ns}/${name}`) ?? []) for (const a of s.addrs) if (a.ready || svc.pna) out.push(a);
    return out;
  }

  private endpointHostIPs(ns: string, svcName: string, svc: SvcRec, label: string): string[] {
    const ips: string[] = [];
    for (const a of this.readyAddrs(ns, svcName, svc)) if (a.host === label) ips.push(a.ip);
    // Pods naming this headless Service as their subdomain get `<hostname>.<subdomain>` even when the
    // Endpoints controller did not copy the hostname into the Endpoints object.
    for (const key of this.podHosts.get(`${ns}/${svcName}`) ?? []) {
      const p = this.pods.get(key);
      if (p && p.host === label && (p.ready || svc.pna)) ips.push(p.ip);
    }
    return uniq(ips);
  }

  private srvRecords(ns: string, name: string, svc: SvcRec, svcFqdn: string, match: (p: PortRec) => boolean): Srv[] {
    if (svc.ip) return svc.ports.filter(match).map((p) => ({ port: p.port, target: svcFqdn, ip: svc.ip }));
    const out: Srv[] = [];
    for (const s of this.eps.get(`${ns}/${name}`) ?? []) {
      const ports = s.ports.filter(match);
      if (!ports.length) continue;
      for (const a of s.addrs) {
        if (!a.ready && !svc.pna) continue;
        for (const p of ports) out.push({ port: p.port, target: `${a.host}.${svcFqdn}`, ip: a.ip });
      }
    }
    return out;
  }

  private answerReverse(name: string, qtype: string, cfg: AnswerConfig, domain: string): DNSAnswer {
    const zone = 'in-addr.arpa';
    const soa = soaRR(zone, domain, cfg.ttl, this.serial);
    const ip = reverseToIPv4(name);
    const ours = ip !== undefined && (cfg.reverseCIDRs ?? []).some((c) => cidrContains(c, ip));
    const target = ip === undefined ? undefined : this.ptrTarget(ip, domain, cfg);
    if (target === undefined) {
      if (ours) return { rcode: 'NXDOMAIN', answers: [], authority: [soa], authoritative: true };
      return { rcode: 'NOERROR', answers: [], authority: [], forward: true };
    }
    if (qtype !== 'PTR' && qtype !== 'ANY') return { rcode: 'NOERROR', answers: [], authority: [soa], authoritative: true };
    return { rcode: 'NOERROR', answers: [{ name, type: 'PTR', class: 'IN', ttl: cfg.ttl, data: target }], authority: [], authoritative: true };
  }

  private ptrTarget(ip: string, domain: string, cfg: AnswerConfig): string | undefined {
    const svcKey = this.svcByIP.get(ip);
    if (svcKey) {
      const [ns, name] = svcKey.split('/');
      return `${name}.${ns}.svc.${domain}`;
    }
    for (const key of this.epByIP.get(ip) ?? []) {
      const [ns, name] = key.split('/');
      const svc = this.svcs.get(ns)?.get(name);
      if (!svc || svc.ip !== '' || svc.ext !== undefined) continue;
      const a = this.readyAddrs(ns, name, svc).find((x) => x.ip === ip);
      if (a) return `${a.host}.${name}.${ns}.svc.${domain}`;
    }
    for (const key of this.podsByIP.get(ip) ?? []) {
      const p = this.pods.get(key);
      if (!p) continue;
      if (p.host && p.sub) {
        const svc = this.svcs.get(p.ns)?.get(p.sub);
        if (svc && svc.ip === '' && svc.ext === undefined) return `${p.host}.${p.sub}.${p.ns}.svc.${domain}`;
      }
      if ((cfg.pods ?? 'verified') !== 'disabled') return `${dashedIP(ip)}.${p.ns}.pod.${domain}`;
    }
    return undefined;
  }
}

/** What one existing name holds; lazily computed so an A query never builds SRV sets. */
interface Node {
  a?: () => string[];
  srv?: () => Srv[];
  cname?: string;
  txt?: string;
  soa?: boolean;
  ns?: string;
}

function select(node: Node, name: string, qtype: string, ttl: number, soa: RR): DNSAnswer {
  const base = { authority: [] as RR[], authoritative: true };
  if (node.cname !== undefined) {
    // A CNAME owns its name for every type (RFC 1034 3.6.2); address questions are chased for the client.
    const answers: RR[] = [{ name, type: 'CNAME', class: 'IN', ttl, data: node.cname }];
    if (qtype === 'A' || qtype === 'AAAA' || qtype === 'ANY') return { rcode: 'NOERROR', answers, ...base, forward: true, cnameTarget: node.cname };
    return { rcode: 'NOERROR', answers, ...base };
  }
  const answers: RR[] = [];
  let additional: RR[] | undefined;
  if ((qtype === 'A' || qtype === 'ANY') && node.a) for (const ip of node.a()) answers.push({ name, type: 'A', class: 'IN', ttl, data: ip });
  if (qtype === 'SRV' && node.srv) {
    const srvs = node.srv();
    const weight = srvs.length ? Math.max(1, Math.floor(100 / srvs.length)) : 0;
    additional = [];
    const glued = new Set<string>();
    for (const s of srvs) {
      answers.push({ name, type: 'SRV', class: 'IN', ttl, data: { priority: 0, weight, port: s.port, target: s.target } });
      const g = `${s.target}|${s.ip}`;
      if (s.ip && !glued.has(g)) {
        glued.add(g);
        additional.push({ name: s.target, type: 'A', class: 'IN', ttl, data: s.ip });
      }
    }
  }
  if ((qtype === 'TXT' || qtype === 'ANY') && node.txt !== undefined) answers.push({ name, type: 'TXT', class: 'IN', ttl, data: [node.txt] });
  if ((qtype === 'SOA' || qtype === 'ANY') && node.soa) answers.push({ ...soa, name });
  if ((qtype === 'NS' || qtype === 'ANY') && node.ns) answers.push({ name, type: 'NS', class: 'IN', ttl, data: node.ns });
  if (answers.length === 0) return { rcode: 'NOERROR', answers, authority: [soa], authoritative: true };
  return additional?.length ? { rcode: 'NOERROR', answers, ...base, additional } : { rcode: 'NOERROR', answers, ...base };
}

function negative(rcode: Rcode): DNSAnswer {
  return { rcode, answers: [], authority: [] };
}

function soaRR(zone: string, domain: string, ttl: number, serial: number): RR {
  return {
    name: zone,
    type: 'SOA',
    class: 'IN',
    ttl,
    data: { mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl },
  };
}

// ---------- object -> compact record ----------

function portRec(p: { name?: string; protocol?: string; port?: number }): PortRec | undefined {
  if (!p.port || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) return undefined;
  const name = (p.name ?? '').toLowerCase();
  // A port name that is not a DNS label cannot become an `_<port>` label.
  if (name && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) return undefined;
  return { name, proto: (p.protocol ?? 'TCP').toLowerCase(), port: p.port };
}

function serviceRecord(svc: Service): SvcRec | undefined {
  const spec = svc.spec ?? {};
  const ports = (spec.ports ?? []).map(portRec).filter((p): p is PortRec => p !== undefined);
  const pna = spec.publishNotReadyAddresses === true;
  if (spec.type === 'ExternalName') {
    const ext = normalizeName(spec.externalName ?? '');
    return isDNSName(ext) ? { ip: '', ext, ports, pna } : undefined;
  }
  if (spec.clusterIP === 'None') return { ip: '', ports, pna };
  // No address yet (not allocated) or a family we do not serve: no record until the VIP exists.
  if (!spec.clusterIP || !isIPv4(spec.clusterIP)) return undefined;
  return { ip: spec.clusterIP, ports, pna };
}

function endpointsRecord(ep: Endpoints): SubsetRec[] {
  const out: SubsetRec[] = [];
  for (const s of ep.subsets ?? []) {
    const addrs: AddrRec[] = [];
    const add = (a: { ip: string; hostname?: string }, ready: boolean) => {
      if (!isIPv4(a.ip)) return;
      const h = a.hostname?.toLowerCase();
      addrs.push({ ip: a.ip, host: h && isDNSLabel(h) ? h : dashedIP(a.ip), ready });
    };
    for (const a of s.addresses ?? []) add(a, true);
    for (const a of s.notReadyAddresses ?? []) add(a, false);
    const ports = (s.ports ?? []).map(portRec).filter((p): p is PortRec => p !== undefined);
    if (addrs.length) out.push({ addrs, ports });
  }
  return out;
}

function podRecord(pod: Pod, ns: string): PodRec | undefined {
  const ip = pod.status?.podIP;
  // hostNetwork Pods share the node's address: they would hijack its PTR and are not addressable as Pods.
  if (!ip || !isIPv4(ip) || pod.spec?.hostNetwork) return undefined;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const host = pod.spec?.hostname?.toLowerCase();
  const sub = pod.spec?.subdomain?.toLowerCase();
  const rec: PodRec = { ns, ip, ready };
  if (host && sub && isDNSLabel(host) && isDNSLabel(sub)) {
    rec.host = host;
    rec.sub = sub;
  }
  return rec;
}

function sameSvc(a: SvcRec, b: SvcRec): boolean {
  if (a.ip !== b.ip || a.ext !== b.ext || a.pna !== b.pna || a.ports.length !== b.ports.length) return false;
  return a.ports.every((p, i) => p.name === b.ports[i].name && p.proto === b.ports[i].proto && p.port === b.ports[i].port);
}

function addTo(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function removeFrom(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

function uniq(xs: string[]): string[] {
  return xs.length < 2 ? xs : [...new Set(xs)];
}

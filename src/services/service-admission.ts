// ClusterIP and NodePort allocation as registry admission: a Service gets its addresses and ports in
// the same atomic store write that creates or changes it, so the stored Services are the whole record
// and a restart rebuilds the allocators from them without ever handing out something twice. Values a
// write gives up are released only once the write has committed; a write that fails gives back what
// its admission took (the registry calls the undo).

import type { KObject, Service, ServicePort, StatusCause } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors, type StatusError } from '../api/errors.js';
import { invalid } from '../api/validation/field.js';
import type { AdmissionContext, AdmissionHook } from '../server/admission.js';
import { IPAllocator, PortAllocator, RangeFullError, type AllocateResult, type Random } from './allocators.js';
import { cidrContains, isIPv4, nthAddress } from '../util/ip.js';
import { objectKey } from '../api/keys.js';

export const KUBERNETES_SERVICE_KEY = 'default/kubernetes';
export const KUBE_DNS_SERVICE_KEY = 'kube-system/kube-dns';

export interface ServiceAllocatorConfig {
  serviceCIDR: string;
  nodePortRange: [number, number];
  /** Reserved for kube-system/kube-dns (dynamic allocation never hands it out). */
  clusterDNS?: string;
  random?: Random;
  /** CIDRs `spec.externalIPs` may use (`--allowed-external-ips`); empty or absent: none (CVE-2020-8554). */
  allowedExternalIPs?: string[];
}

/** What one stored Service holds. */
export interface Held {
  clusterIP?: string;
  nodePorts: number[];
}


function ownerOf(svc: KObject): string {
  // The uid, not the name: a Service deleted and created again under the same name is another owner.
  return svc.metadata.uid ?? objectKey(svc);
}

function typeOf(svc: Service): string {
  return svc.spec?.type ?? 'ClusterIP';
}

function isExternal(type: string): boolean {
  return type === 'NodePort' || type === 'LoadBalancer';
}

/**
 * Kubernetes' DenyServiceExternalIPs admission, with an allow-list: `spec.externalIPs` make every node
 * capture traffic to those addresses (CVE-2020-8554), so a Service may only name addresses inside
 * `allowed`. An update may keep the external IPs it already had (as upstream: existing Services keep
 * working); it may not add one outside the list. Returns the 403 to refuse with, or undefined. Pure.
 */
export function externalIPsRefusal(svc: Service, old: Service | undefined, allowed: readonly string[]): StatusError | undefined {
  const ips: unknown[] = Array.isArray(svc.spec?.externalIPs) ? svc.spec.externalIPs : [];
  const kept = new Set(Array.isArray(old?.spec?.externalIPs) ? old.spec.externalIPs : []);
  const bad: string[] = [];
  ips.forEach((ip, i) => {
    if (typeof ip === 'string' && kept.has(ip)) return;
    const inside = typeof ip === 'string' && isIPv4(ip) && allowed.some((c) => cidrContains(c, ip));
    if (!inside) bad.push(`spec.externalIPs[${i}]: ${JSON.stringify(ip)}`);
  });
  if (bad.length === 0) return undefined;
  const where = allowed.length ? `outside the allowed ranges ${allowed.join(', ')}` : 'and this server allows none';
  return errors.forbidden(
    R.services,
    svc.metadata?.name ?? '',
    `Use of external IPs is denied by admission control: ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} ${where} (a cluster admin allows ranges with \`kubelite server --allowed-external-ips CIDR,...\`)`,
  );
}

/** The cluster IP and node ports a Service object holds (as stored). Pure. */
export function heldBy(svc: Service): Held {
  const spec = svc.spec ?? {};
  const type = typeOf(svc);
  const held: Held = { nodePorts: [] };
  if (type !== 'ExternalName') {
    const ip = spec.clusterIP || spec.clusterIPs?.[0];
    if (ip && ip !== 'None' && isIPv4(ip)) held.clusterIP = ip;
  }
  if (isExternal(type)) {
    const ports = new Set<number>();
    for (const p of spec.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
    if (spec.healthCheckNodePort) ports.add(spec.healthCheckNodePort);
    held.nodePorts = [...ports].sort((a, b) => a - b);
  }
  return held;
}

export class ServiceAllocators {
  readonly ips: IPAllocator;
  readonly ports: PortAllocator;
  readonly serviceCIDR: string;
  readonly allowedExternalIPs: readonly string[];

  constructor(cfg: ServiceAllocatorConfig) {
    this.allowedExternalIPs = cfg.allowedExternalIPs ?? [];
    this.ips = new IPAllocator(cfg.serviceCIDR, { random: cfg.random });
    this.serviceCIDR = cfg.serviceCIDR;
    this.ports = new PortAllocator(cfg.nodePortRange[0], cfg.nodePortRange[1], { random: cfg.random });
    // The first address belongs to the `kubernetes` Service, as in every cluster; the DNS address to kube-dns.
    this.ips.reserve(nthAddress(cfg.serviceCIDR, 1), KUBERNETES_SERVICE_KEY);
    if (cfg.clusterDNS && this.ips.contains(cfg.clusterDNS)) this.ips.reserve(cfg.clusterDNS, KUBE_DNS_SERVICE_KEY);
  }

  /**
   * Forgets everything and takes what `services` hold, oldest first (so when two stored Services claim
   * the same value, which only a write made without these hooks can cause, the older keeps it).
   * Returns one line per problem found.
   */
  rebuild(services: Service[]): string[] {
    this.ips.clear();
    this.ports.clear();
    const problems: string[] = [];
    const sorted = [...services].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || objectKey(a).localeCompare(objectKey(b)));
    for (const svc of sorted) {
      const held = heldBy(svc);
      const owner = ownerOf(svc);
      const key = objectKey(svc);
      if (held.clusterIP) {
        const r = this.ips.allocate(held.clusterIP, owner, key);
        if (!r.ok) problems.push(`service ${key}: clusterIP ${held.clusterIP} ${r.reason === 'out-of-range' ? `is outside the service CIDR ${this.ips.cidr}` : `is also held by ${r.owner}`}`);
      }
      for (const p of held.nodePorts) {
        const r = this.ports.allocate(p, owner);
        if (!r.ok) problems.push(`service ${key}: nodePort ${p} ${r.reason === 'out-of-range' ? `is outside the node port range ${this.ports.range}` : `is also held by ${r.owner}`}`);
      }
    }
    return problems;
  }

  /**
   * Fills in `svc.spec.clusterIP(s)` and node ports for a create (old undefined) or an update, taking
   * explicit values when free. Throws a StatusError (nothing held) or returns the undo.
   */
  admit(svc: Service, old: Service | undefined): () => void {
    const owner = ownerOf(svc);
    const taken: { ips: string[]; ports: number[] } = { ips: [], ports: [] };
    const undo = () => {
      for (const ip of taken.ips) this.ips.release(ip, owner);
      for (const p of taken.ports) this.ports.release(p, owner);
    };
    try {
      const causes: StatusCause[] = [];
      this.admitClusterIP(svc, old, owner, taken, causes);
      this.admitNodePorts(svc, old, owner, taken, causes);
      if (causes.length) throw errors.invalid('Service', svc.metadata.name ?? '', causes);
    } catch (err) {
      undo();
      throw err;
    }
    return undo;
  }

  /** After a committed update or delete (`svc` undefined): gives back what `old` held and `svc` no longer does. */
  commit(svc: Service | undefined, old: Service): void {
    const before = heldBy(old);
    const after = svc ? heldBy(svc) : { nodePorts: [] as number[] };
    const owner = ownerOf(old);
    if (before.clusterIP && before.clusterIP !== after.clusterIP) this.ips.release(before.clusterIP, owner);
    const keep = new Set(after.nodePorts);
    for (const p of before.nodePorts) if (!keep.has(p)) this.ports.release(p, owner);
  }

  private admitClusterIP(svc: Service, old: Service | undefined, owner: string, taken: { ips: string[] }, causes: StatusCause[]): void {
    const spec = svc.spec;
    if (typeOf(svc) === 'ExternalName') return;
    const requested = spec.clusterIP || spec.clusterIPs?.[0];
    if (requested === 'None') {
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
      return;
    }
    const oldIP = old ? heldBy(old).clusterIP : undefined;
    let ip: string;
    if (requested && requested === oldIP) {
      ip = requested;
    } else if (requested) {
      const r = this.ips.allocate(requested, owner, objectKey(svc));
      if (!r.ok) {
        causes.push(invalid('spec.clusterIPs[0]', requested, this.ipMessage(r)));
        return;
      }
      taken.ips.push(requested);
      ip = requested;
    } else {
      try {
        ip = this.ips.allocateNext(owner);
      } catch (err) {
        if (err instanceof RangeFullError) throw errors.internal('failed to allocate a serviceIP: range is full');
        throw err;
      }
      taken.ips.push(ip);
    }
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }

  private ipMessage(r: Exclude<AllocateResult, { ok: true }>): string {
    if (r.reason === 'out-of-range') return `provided IP is not in the valid range. The range of valid IPs is ${this.serviceCIDR}`;
    return 'provided IP is already allocated';
  }

  private portMessage(r: Exclude<AllocateResult, { ok: true }>): string {
    if (r.reason === 'out-of-range') return `provided port is not in the valid range. The range of valid ports is ${this.ports.range}`;
    return 'provided port is already allocated';
  }

  private admitNodePorts(svc: Service, old: Service | undefined, owner: string, taken: { ports: number[] }, causes: StatusCause[]): void {
    const spec = svc.spec;
    const type = typeOf(svc);
    if (!isExternal(type)) return;
    const kept = new Set(old ? heldBy(old).nodePorts : []);
    const mine = new Set<number>();
    const take = (port: number, field: string): boolean => {
      if (kept.has(port) || mine.has(port)) return true;
      const r = this.ports.allocate(port, owner);
      if (!r.ok) {
        causes.push(invalid(field, port, this.portMessage(r)));
        return false;
      }
      taken.ports.push(port);
      mine.add(port);
      return true;
    };
    const next = (): number => {
      try {
        const p = this.ports.allocateNext(owner);
        taken.ports.push(p);
        mine.add(p);
        return p;
      } catch (err) {
        if (err instanceof RangeFullError) throw errors.internal('failed to allocate a nodePort: range is full');
        throw err;
      }
    };
    const ports: ServicePort[] = spec.ports ?? [];
    // Explicit ports first, so an automatic one can never take a port asked for further down the list.
    ports.forEach((p, i) => {
      if (p.nodePort) take(p.nodePort, `spec.ports[${i}].nodePort`);
    });
    const auto = type === 'NodePort' || spec.allocateLoadBalancerNodePorts !== false;
    if (auto && causes.length === 0) {
      for (const p of ports) {
        if (p.nodePort) continue;
        // The same port number for TCP and UDP shares one node port, as Kubernetes does.
        const sibling = ports.find((q) => q !== p && q.port === p.port && q.nodePort);
        p.nodePort = sibling?.nodePort ?? next();
      }
    }
    if (type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && causes.length === 0) {
      if (spec.healthCheckNodePort) take(spec.healthCheckNodePort, 'spec.healthCheckNodePort');
      else spec.healthCheckNodePort = next();
    }
  }

  /**
   * The registry hook. `ready` gates admission until the allocators are rebuilt from the store, so a
   * request that arrives while the server starts waits instead of allocating from an empty state.
   */
  hook(ready: Promise<unknown> = Promise.resolve()): AdmissionHook {
    return {
      resource: R.services,
      admit: async (ctx: AdmissionContext, obj: KObject, old: KObject | undefined) => {
        if (ctx.subresource) return; // status writes never touch the spec
        if (ctx.op !== 'create' && ctx.op !== 'update') return;
        const refusal = externalIPsRefusal(obj as Service, old as Service | undefined, this.allowedExternalIPs);
        if (refusal) throw refusal;
        await ready;
        return this.admit(obj as Service, old as Service | undefined);
      },
      committed: (ctx: AdmissionContext, obj: KObject | undefined, old: KObject | undefined) => {
        if (ctx.dryRun || !old) return;
        if (ctx.op === 'delete') this.commit(undefined, old as Service);
        else if (ctx.op === 'update' && !ctx.subresource) this.commit(obj as Service, old as Service);
      },
    };
  }
}

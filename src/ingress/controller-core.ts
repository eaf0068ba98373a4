// The ingress controller without API access: the lead's informers feed it objects, it rebuilds the
// route table (debounced by a few ms), hands it to the proxy, and reports problems and the address
// to write into status.loadBalancer.ingress.

import fs from 'node:fs';
import os from 'node:os';
import type { Endpoints, Ingress, IngressClass, KObject, LoadBalancerIngress, Secret, Service } from '../api/types.js';
import { buildCertStore, type CertStore, type PemPair } from './certs.js';
import { buildRouteTable, type BuildResult, type RouteTable } from './routes.js';
import { objectKey } from '../api/keys.js';

export const INGRESS_CLASS_NAME = 'kubelite';
export const INGRESS_CONTROLLER_NAME = 'kubelite.io/ingress-controller';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export type ProblemKind = 'Conflict' | 'TLS' | 'Invalid';

export interface RouteSink {
  update(table: RouteTable, certs: CertStore): void;
}

export interface ControllerCoreOptions {
  /** served certificate for names no Secret covers */
  defaultCert: PemPair;
  proxy?: RouteSink;
  className?: string;
  /** `ingress` is `namespace/name`; called once per new problem, not on every rebuild */
  onProblem?: (kind: ProblemKind, ingress: string, message: string) => void;
  /** after every rebuild, with the Ingresses now served (the lead updates their status) */
  onRebuilt?: (result: BuildResult) => void;
  debounceMs?: number;
  /** status address; default: the address the ingress binds, or the host's default-route address */
  address?: string;
  bindAddress?: string;
}

/** The IngressClass kubelite creates at start. */
export function ingressClassObject(name = INGRESS_CLASS_NAME): IngressClass {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    spec: { controller: INGRESS_CONTROLLER_NAME },
  };
}

/** The host's address for Ingress status: the bind address if specific, else the default route's interface. */
export function hostAddress(bindAddress = '0.0.0.0'): string {
  if (bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress;
  const ifaces = os.networkInterfaces();
  const v4 = (name: string) => ifaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  try {
    for (const line of fs.readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [iface, dest] = line.trim().split(/\s+/);
      if (dest === '00000000' && iface) {
        const a = v4(iface);
        if (a) return a;
      }
    }
  } catch {
    /* not Linux: fall through */
  }
  for (const name of Object.keys(ifaces)) {
    const a = v4(name);
    if (a) return a;
  }
  return '127.0.0.1';
}

export class IngressControllerCore {
  private readonly ingresses = new Map<string, Ingress>();
  private readonly services = new Map<string, Service>();
  private readonly endpoints = new Map<string, Endpoints>();
  private readonly secrets = new Map<string, Secret>();
  private readonly classes = new Map<string, IngressClass>();
  private readonly className: string;
  private timer?: NodeJS.Timeout;
  private reported = new Set<string>();
  private last?: BuildResult;
  private readonly address: string;

  constructor(private readonly opts: ControllerCoreOptions) {
    this.className = opts.className ?? INGRESS_CLASS_NAME;
    this.address = opts.address ?? hostAddress(opts.bindAddress);
  }

  upsert(obj: KObject): void {
    if (this.store(obj, false)) this.schedule();
  }

  remove(obj: KObject): void {
    if (this.store(obj, true)) this.schedule();
  }

  /** Whether an object of this kind matters; true when the table must be rebuilt. */
  private store(obj: KObject, removed: boolean): boolean {
    const k = objectKey(obj);
    const put = <T extends KObject>(m: Map<string, T>, v: T) => (removed ? m.delete(k) : m.set(k, v), true);
    switch (obj.kind) {
      case 'Ingress':
        return put(this.ingresses, obj as Ingress);
      case 'Service':
        return put(this.services, obj as Service);
      case 'Endpoints':
        return put(this.endpoints, obj as Endpoints);
      case 'IngressClass':
        return put(this.classes, obj as IngressClass);
      case 'Secret': {
        const s = obj as Secret;
        // Only TLS Secrets' keys are kept; of the others the type is enough to explain a rejection.
        const slim: Secret = s.type === 'kubernetes.io/tls' ? s : { apiVersion: 'v1', kind: 'Secret', metadata: s.metadata, type: s.type };
        put(this.secrets, slim);
        // a Secret no Ingress names changes nothing
        return this.isReferenced(k);
      }
      default:
        return false;
    }
  }

  private isReferenced(secretKey: string): boolean {
    for (const ing of this.ingresses.values()) {
      for (const t of ing.spec?.tls ?? []) if (`${ing.metadata.namespace ?? ''}/${t.secretName}` === secretKey) return true;
    }
    return false;
  }

  /** Ours when our IngressClass is marked default, or before any IngressClass is known (kubelite creates it so). */
  isDefaultClass(): boolean {
    const ours = this.classes.get(this.className);
    if (!ours) return this.classes.size === 0;
    return ours.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.rebuild();
    }, this.opts.debounceMs ?? 2);
  }

  /** Rebuild now (also what the debounce timer runs). */
  rebuild(): BuildResult {
    clearTimeout(this.timer);
    this.timer = undefined;
    const result = buildRouteTable({
      ingresses: [...this.ingresses.values()],
      services: [...this.services.values()],
      endpoints: [...this.endpoints.values()],
      secrets: [...this.secrets.values()],
      className: this.className,
      isDefaultClass: this.isDefaultClass(),
    });
    this.last = result;
    this.opts.proxy?.update(result.table, buildCertStore(result.table, this.opts.defaultCert));
    this.report(result);
    this.opts.onRebuilt?.(result);
    return result;
  }

  private report(r: BuildResult): void {
    const now = new Map<string, [ProblemKind, string, string]>();
    for (const c of r.conflicts) {
      const msg = `host ${JSON.stringify(c.host || '*')} path ${JSON.stringify(c.path)} is already served by the older Ingress ${c.winner}; this rule is ignored`;
      now.set(`C\0${c.ingress}\0${msg}`, ['Conflict', c.ingress, msg]);
    }
    for (const p of r.tlsProblems) {
      const msg = `TLS secret ${p.secret}: ${p.reason}; serving the default certificate for its hosts`;
      now.set(`T\0${p.ingress}\0${msg}`, ['TLS', p.ingress, msg]);
    }
    for (const p of r.invalid) now.set(`I\0${p.ingress}\0${p.reason}`, ['Invalid', p.ingress, `${p.reason}; this rule is ignored`]);
    for (const [k, [kind, ing, msg]] of now) if (!this.reported.has(k)) this.opts.onProblem?.(kind, ing, msg);
    this.reported = new Set(now.keys());
  }

  /** What status.loadBalancer.ingress of every served Ingress should hold. */
  status(): LoadBalancerIngress[] {
    return [{ ip: this.address }];
  }

  /** `namespace/name` of the Ingresses the last rebuild serves. */
  served(): string[] {
    return this.last?.table.ingresses ?? [];
  }

  lastResult(): BuildResult | undefined {
    return this.last;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

// What the ingress controller writes back to the API, decided without touching it: which Ingresses'
// status.loadBalancer.ingress must change, the Event reason for a routing problem, which informer
// updates matter to the route table, and the default IngressClass for new Ingresses.

import type { Ingress, IngressClass, LoadBalancerIngress } from '../api/types.js';
import { DEFAULT_CLASS_ANNOTATION, type ProblemKind } from './controller-core.js';

export interface StatusWrite {
  namespace: string;
  name: string;
  /** the whole new list; empty clears it */
  ingress: LoadBalancerIngress[];
}

function sameAddresses(a: readonly LoadBalancerIngress[] | undefined, b: readonly LoadBalancerIngress[]): boolean {
  const norm = (l: readonly LoadBalancerIngress[] | undefined) =>
    (l ?? [])
      .map((x) => `${x.ip ?? ''}|${x.hostname ?? ''}`)
      .sort()
      .join(',');
  return norm(a) === norm(b);
}

/**
 * Served Ingresses get `want`; an Ingress we no longer serve (its class changed) loses our address
 * if it holds exactly that, so `get ing` never shows an address nothing listens on for it. An
 * Ingress already right costs no write.
 */
export function planStatusWrites(ingresses: readonly Ingress[], served: ReadonlySet<string>, want: readonly LoadBalancerIngress[]): StatusWrite[] {
  const out: StatusWrite[] = [];
  for (const ing of ingresses) {
    if (ing.metadata.deletionTimestamp) continue;
    const namespace = ing.metadata.namespace ?? 'default';
    const name = ing.metadata.name ?? '';
    const have = ing.status?.loadBalancer?.ingress;
    if (served.has(`${namespace}/${name}`)) {
      if (!sameAddresses(have, want)) out.push({ namespace, name, ingress: want.map((x) => ({ ...x })) });
    } else if (want.length > 0 && have?.length && sameAddresses(have, want)) {
      out.push({ namespace, name, ingress: [] });
    }
  }
  return out;
}

/** The Event reason kubectl describe shows for a routing problem. */
export function problemReason(kind: ProblemKind, message: string): string {
  switch (kind) {
    case 'Conflict':
      return 'Conflict';
    case 'Invalid':
      return 'InvalidRule';
    case 'TLS':
      return /secret not found/.test(message) ? 'TLSSecretNotFound' : 'InvalidTLSSecret';
  }
}

/**
 * Whether an Ingress update can change routing. Our own status writes (and anyone's) come back as
 * updates: skipping them keeps a status write from causing a rebuild that plans the same status.
 */
export function ingressChangeMatters(old: Ingress, next: Ingress): boolean {
  if (old.metadata.deletionTimestamp !== next.metadata.deletionTimestamp) return true;
  if (old.metadata.creationTimestamp !== next.metadata.creationTimestamp) return true;
  if (JSON.stringify(old.metadata.annotations ?? {}) !== JSON.stringify(next.metadata.annotations ?? {})) return true;
  return JSON.stringify(old.spec ?? {}) !== JSON.stringify(next.spec ?? {});
}

/**
 * The class a new Ingress without one gets, as Kubernetes' DefaultIngressClass admission plugin
 * decides: among the classes annotated default, the newest (then the first by name); none, none.
 */
export function defaultIngressClassName(classes: readonly IngressClass[]): string | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' && !c.metadata.deletionTimestamp);
  defaults.sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return tb - ta;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
  return defaults[0]?.metadata.name;
}

/** Sets spec.ingressClassName on a new Ingress that names no class (field or legacy annotation). */
export function defaultIngressClass(ing: Ingress, classes: readonly IngressClass[]): boolean {
  if (ing.metadata.annotations?.['kubernetes.io/ingress.class'] !== undefined) return false;
  if (ing.spec?.ingressClassName) return false;
  const name = defaultIngressClassName(classes);
  if (!name) return false;
  ing.spec = { ...(ing.spec ?? {}), ingressClassName: name };
  return true;
}

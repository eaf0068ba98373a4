// Service links: the environment variables the kubelet gives every container for the Services it may
// talk to (pkg/kubelet/envvars): `<NAME>_SERVICE_HOST/_PORT[_<PORTNAME>]` and the docker-link style
// `<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`. The `kubernetes` Service of
// `default` always (that is how in-cluster clients find the API), the Pod's namespace's own when
// enableServiceLinks is true (the default).

import type { Service } from '../api/types.js';

const MASTER_NAMESPACE = 'default';
const MASTER_SERVICES = new Set(['kubernetes']);

function envName(s: string): string {
  return s.replace(/-/g, '_').toUpperCase();
}

function ipSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** The Services whose variables a Pod in `namespace` gets. */
export function linkedServices(services: readonly Service[], namespace: string, enableServiceLinks: boolean): Service[] {
  const byName = new Map<string, Service>();
  for (const svc of services) {
    if (!ipSet(svc)) continue;
    const name = svc.metadata.name!;
    if (svc.metadata.namespace === MASTER_NAMESPACE && MASTER_SERVICES.has(name)) {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (svc.metadata.namespace === namespace && enableServiceLinks) byName.set(name, svc);
  }
  return [...byName.values()].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
}

/** envvars.FromServices: the variables of these Services, in Kubernetes' order. */
export function serviceEnv(services: readonly Service[]): [string, string][] {
  const out: [string, string][] = [];
  for (const svc of services) {
    const ports = svc.spec.ports ?? [];
    if (!ipSet(svc) || ports.length === 0) continue;
    const prefix = envName(svc.metadata.name!);
    const ip = svc.spec.clusterIP!;
    out.push([`${prefix}_SERVICE_HOST`, ip]);
    out.push([`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
    for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
    ports.forEach((p, i) => {
      const proto = (p.protocol || 'TCP').toLowerCase();
      const url = `${proto}://${ip}:${p.port}`;
      if (i === 0) out.push([`${prefix}_PORT`, url]);
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push([pp, url], [`${pp}_PROTO`, proto], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
    });
  }
  return out;
}

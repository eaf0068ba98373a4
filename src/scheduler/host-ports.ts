// The NodePorts filter: two pods clash when they want the same protocol/hostPort on the same host IP,
// where 0.0.0.0 (the default) overlaps every IP.

import type { Pod } from '../api/types.js';

export interface HostPort {
  protocol: string;
  port: number;
  ip: string;
}

const ANY = '0.0.0.0';

/** The host ports a pod binds. hostNetwork pods bind their containerPorts (API defaulting sets hostPort so). */
export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      const port = p.hostPort || (pod.spec.hostNetwork ? p.containerPort : 0);
      if (!port) continue;
      out.push({ protocol: p.protocol ?? 'TCP', port, ip: p.hostIP || ANY });
    }
  }
  return out;
}

/** Host ports in use on one node, indexed by protocol/port. */
export class HostPortSet {
  private readonly used = new Map<string, Set<string>>();

  add(p: HostPort): void {
    const k = `${p.protocol}/${p.port}`;
    let ips = this.used.get(k);
    if (!ips) this.used.set(k, (ips = new Set()));
    ips.add(p.ip);
  }

  conflicts(p: HostPort): boolean {
    const ips = this.used.get(`${p.protocol}/${p.port}`);
    if (!ips || ips.size === 0) return false;
    return p.ip === ANY || ips.has(ANY) || ips.has(p.ip);
  }

  anyConflict(ports: readonly HostPort[]): boolean {
    return ports.some((p) => this.conflicts(p));
  }
}

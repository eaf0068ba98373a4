// Where the embedded DNS server listens and whom it forwards to. Pure: the component feeds in what the
// host has (its addresses, its resolv.conf) and acts on the answer.

import dgram from 'node:dgram';
import net from 'node:net';
import { parseUpstream } from './forward.js';

export type ListenChoice =
  /** The pod bridge's gateway is on the host: Pods reach it directly and through the kube-dns VIP. */
  | { address: string; reason: 'gateway' }
  /** No agent means no pod bridge and no Pods: loopback serves the host (dig, `kubelite dns lookup`). */
  | { address: '127.0.0.1'; reason: 'agent-disabled' }
  /** The agent is on but its bridge is not up yet: poll again. */
  | { wait: true };

export function chooseListenAddress(o: { gateway: string; gatewayIsLocal: boolean; agentEnabled: boolean }): ListenChoice {
  if (!o.agentEnabled) return { address: '127.0.0.1', reason: 'agent-disabled' };
  if (o.gatewayIsLocal) return { address: o.gateway, reason: 'gateway' };
  return { wait: true };
}

/**
 * Whether `ip` is an address of this host, whatever the state of its device. Binding is the test:
 * os.networkInterfaces() leaves out devices without carrier, and the pod bridge has none until its
 * first Pod starts, while its address is already bound and reachable.
 */
export async function isLocalAddress(ip: string): Promise<boolean> {
  const sock = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, ip, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    try {
      sock.close();
    } catch {
      // never bound
    }
  }
}

export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

export interface UpstreamChoice {
  upstreams: string[];
  source: 'flag' | 'resolv.conf';
  /** Entries left out, each with why. */
  dropped: { upstream: string; why: string }[];
}

/**
 * `--upstream-dns` when given, else the host's resolv.conf nameservers. The cluster DNS VIP itself is
 * always dropped: a host whose resolv.conf points at the cluster DNS (so the host resolves Service
 * names) would otherwise forward every outside name back to us through the DNAT, in a loop that
 * DNSServer cannot see (it only knows its own listen addresses). Unusable resolv.conf entries are
 * dropped too; a bad flag value is kept so that DNSServer rejects it with a clear message.
 */
export function upstreamsFor(configured: readonly string[] | undefined, resolvConf: () => string[], clusterDNS: string): UpstreamChoice {
  const fromFlag = configured !== undefined && configured.length > 0;
  const list = fromFlag ? [...configured] : resolvConf();
  const upstreams: string[] = [];
  const dropped: UpstreamChoice['dropped'] = [];
  for (const u of list) {
    let host: string;
    try {
      host = parseUpstream(u).host;
    } catch {
      if (fromFlag) upstreams.push(u);
      else dropped.push({ upstream: u, why: 'not an IP address' });
      continue;
    }
    if (host === clusterDNS) {
      dropped.push({ upstream: u, why: 'it is the cluster DNS address itself (a forwarding loop)' });
      continue;
    }
    if (!upstreams.includes(u)) upstreams.push(u);
  }
  return { upstreams, source: fromFlag ? 'flag' : 'resolv.conf', dropped };
}

// Resolving a cluster's Service names on the host. Pure. The cluster DNS address is routed to the node
// like every ClusterIP, so any resolver that can send one domain to one server works. With
// systemd-resolved, `kubelite cluster dns NAME --apply` makes it per link: the cluster's bridge gets the
// cluster DNS server and the routing domain, and resolved forgets both when the bridge goes away.

import { isIPv4 } from '../util/ip.js';

export interface ClusterDNS {
  cluster: string;
  bridge: string;
  server: string;
  domain: string;
}

/** A cluster bridge (names.ts): nothing else is ever handed to resolvectl. */
const BRIDGE_RE = /^klc-[a-z0-9-]{1,11}$/;
const DOMAIN_RE = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function check(d: ClusterDNS): void {
  if (!isIPv4(d.server)) throw new Error(`cluster DNS ${JSON.stringify(d.server)} is not an IPv4 address`);
  if (!DOMAIN_RE.test(d.domain)) throw new Error(`cluster domain ${JSON.stringify(d.domain)} is not a DNS name`);
  if (!BRIDGE_RE.test(d.bridge)) throw new Error(`bridge ${JSON.stringify(d.bridge)}`);
}

/** `resolvectl` argument lists that send *.svc.<domain> (and reverse names) to the cluster's DNS. */
export function resolvedApply(d: ClusterDNS): string[][] {
  check(d);
  return [
    ['dns', d.bridge, d.server],
    ['domain', d.bridge, `~svc.${d.domain}`],
  ];
}

export function resolvedRevert(d: Pick<ClusterDNS, 'bridge'>): string[][] {
  if (!BRIDGE_RE.test(d.bridge)) throw new Error(`bridge ${JSON.stringify(d.bridge)}`);
  return [['revert', d.bridge]];
}

/** What `kubelite cluster dns NAME` prints: the server, and how to point common resolvers at it. */
export function resolverSnippet(d: ClusterDNS): string {
  check(d);
  return [
    `# cluster ${d.cluster}: Service names *.svc.${d.domain} are answered by ${d.server} (routed to the cluster by the host)`,
    `#   one-off:          dig @${d.server} my-service.default.svc.${d.domain}`,
    `#   systemd-resolved: kubelite cluster dns ${d.cluster} --apply   (resolvectl dns ${d.bridge} ${d.server}; resolvectl domain ${d.bridge} '~svc.${d.domain}')`,
    `#   dnsmasq:          add to /etc/dnsmasq.d/kubelite-${d.cluster}.conf, then restart dnsmasq:`,
    `server=/svc.${d.domain}/${d.server}`,
    '',
  ].join('\n');
}

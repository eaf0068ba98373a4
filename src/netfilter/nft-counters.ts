// Per-endpoint DNAT counters in the nftables mode: every DNAT rule of a service chain (svc-..., and
// local-... for externalTrafficPolicy Local) carries a `counter`, and each such chain carries the
// service port (`ns/name:port`) as its comment. Reading lists the table once, on demand (a UI, never
// the sync loop). Parsing is pure.

import type { HostNames } from '../config.js';
import type { EndpointCounter } from './counters.js';
import { nftListTable } from './nft.js';
import { nftNames, serviceChainKind } from './nft-names.js';

/** Same shape as the iptables mode's reader (src/netfilter/counters.ts). */
export type { EndpointCounter };

const DNAT_RULE = /\bcounter packets (\d+) bytes (\d+) meta l4proto (tcp|udp|sctp) dnat to (\d{1,3}(?:\.\d{1,3}){3}:\d{1,5})\s*$/;

/**
 * The counters in `nft list table ip <table>` output, summed per service port and endpoint (an endpoint
 * appears in its service chain, in its local chain, and once more per affinity rule). Sorted.
 */
export function parseNftEndpointCounters(listing: string, table: string): EndpointCounter[] {
  const lines = listing.split('\n');
  let i = lines.findIndex((l) => l.trim() === `table ip ${table} {`);
  if (i < 0) return [];
  const sums = new Map<string, EndpointCounter>();
  // nft indents with tabs: the table closes with `}` alone, a chain or set with `\t}`.
  for (i++; i < lines.length; i++) {
    if (lines[i].trimEnd() === '}') break;
    const m = /^\tchain (\S+) \{$/.exec(lines[i]);
    if (!m) continue;
    const kind = serviceChainKind(m[1]);
    const counted = kind === 'svc' || kind === 'local';
    let key: string | undefined;
    for (i++; i < lines.length && lines[i].trimEnd() !== '\t}'; i++) {
      const l = lines[i].trim();
      const c = /^comment "([^"]*)"$/.exec(l);
      if (c) {
        key = c[1].split(' ')[0];
        continue;
      }
      const r = counted && key ? DNAT_RULE.exec(l) : null;
      if (!r || !key) continue;
      const slash = key.indexOf('/');
      const colon = key.lastIndexOf(':');
      if (slash <= 0 || colon < slash) continue;
      const protocol = r[3].toUpperCase() as EndpointCounter['protocol'];
      const id = `${key} ${protocol} ${r[4]}`;
      let e = sums.get(id);
      if (!e) {
        e = { namespace: key.slice(0, slash), service: key.slice(slash + 1, colon), port: key.slice(colon + 1), protocol, endpoint: r[4], packets: 0, bytes: 0 };
        sums.set(id, e);
      }
      e.packets += Number(r[1]);
      e.bytes += Number(r[2]);
    }
  }
  return [...sums.values()].sort(
    (a, b) =>
      a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service) || a.port.localeCompare(b.port) || a.protocol.localeCompare(b.protocol) || a.endpoint.localeCompare(b.endpoint),
  );
}

/** Lists this instance's table and returns its endpoint counters ([] when there is no table: the iptables mode runs). */
export async function readNftEndpointCounters(names: Pick<HostNames, 'instanceValue'>, list: (table: string) => Promise<string | undefined> = nftListTable): Promise<EndpointCounter[]> {
  const table = nftNames(names).table;
  const text = await list(table);
  return text === undefined ? [] : parseNftEndpointCounters(text, table);
}

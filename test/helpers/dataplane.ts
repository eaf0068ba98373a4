// What the Services tests look at in the kernel, in either proxy mode: the endpoints a service port DNATs
// to, whether a Service is programmed at all, the metrics label. The iptables mode is read with
// iptables-save, the nftables mode with `nft list table` of the instance's own table.

import type { HostNames } from '../../src/config.js';
import { execOk } from '../../src/util/exec.js';
import { nftListTable } from '../../src/netfilter/nft.js';
import { parseNftEndpointCounters } from '../../src/netfilter/nft-counters.js';
import { nftTableName } from '../../src/netfilter/nft-names.js';

export type ProxyMode = 'nftables' | 'iptables';

/** The mode a Services test file runs in: KUBELITE_TEST_PROXY_MODE overrides the file's own. */
export function testProxyMode(fileDefault: ProxyMode): ProxyMode {
  const m = process.env.KUBELITE_TEST_PROXY_MODE;
  if (m === undefined || m === '') return fileDefault;
  if (m !== 'nftables' && m !== 'iptables') throw new Error(`KUBELITE_TEST_PROXY_MODE=${m}: expected nftables or iptables`);
  return m;
}

export async function iptablesSaveText(table: 'nat' | 'filter'): Promise<string> {
  return (await execOk('iptables-save', ['-t', table])).stdout;
}

/** The instance's nftables table as `nft list` prints it ('' when there is none). */
export async function nftTableText(names: HostNames): Promise<string> {
  return (await nftListTable(nftTableName(names))) ?? '';
}

/** Everything the data plane of `mode` holds for this instance, as text (for "is X programmed" checks). */
export async function dataplaneText(mode: ProxyMode, names: HostNames): Promise<string> {
  if (mode === 'nftables') return nftTableText(names);
  return `${await iptablesSaveText('nat')}\n${await iptablesSaveText('filter')}`;
}

/** The Pod IPs one service port (`ns/name:port`) DNATs to, sorted. */
export async function dnatTargets(mode: ProxyMode, names: HostNames, servicePort: string): Promise<string[]> {
  const out: string[] = [];
  if (mode === 'nftables') {
    for (const c of parseNftEndpointCounters(await nftTableText(names), nftTableName(names))) {
      if (`${c.namespace}/${c.service}:${c.port}` === servicePort) out.push(c.endpoint.split(':')[0]);
    }
    return [...new Set(out)].sort();
  }
  for (const line of (await iptablesSaveText('nat')).split('\n')) {
    if (!line.includes(`"${servicePort}"`)) continue;
    const m = / -j DNAT --to-destination (\d+\.\d+\.\d+\.\d+):\d+/.exec(line);
    if (m && line.startsWith(`-A ${names.shortChainPrefix}-SEP-`)) out.push(m[1]);
  }
  return out.sort();
}

/** Whether a ClusterIP:port is in the data plane (with endpoints or as a reject). */
export async function vipProgrammed(mode: ProxyMode, names: HostNames, vip: string, port: number): Promise<boolean> {
  const text = await dataplaneText(mode, names);
  if (mode === 'nftables') return text.includes(`${vip} . tcp . ${port} : goto `);
  return text.includes(`-d ${vip}/32 -p tcp`) && text.includes(`--dport ${port} `);
}

/** The metric line regex for a labelled proxy metric in `mode`. */
export function metricRe(name: string, mode: ProxyMode, value = '\\d+'): RegExp {
  return new RegExp(`^${name}\\{mode="${mode}"\\} ${value}$`, 'm');
}

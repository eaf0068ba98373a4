// Where the UI's per-endpoint counters come from: the rule counters of the data plane the proxy runs.
// The proxy component chooses its mode at start (--proxy-mode, else nftables where `nft` works);
// the same choice, made here with the same probe, picks the reader (nftables: the table's DNAT rule
// counters; iptables: iptables-save -c). The composition root wires the two, so neither imports the other.

import type { ServerConfig } from '../config.js';
import type { ComponentContext } from '../server/component.js';
import type { CounterSource } from '../ui/component.js';
import type { NftSupport } from '../netfilter/nft.js';

export async function proxyCounterSource(
  ctx: Pick<ComponentContext, 'config' | 'names'>,
  probe?: () => Promise<NftSupport>,
): Promise<(CounterSource & { mode: 'nftables' | 'iptables' }) | { off: string }> {
  if (ctx.config.disabled.has('proxy')) return { off: 'the proxy is disabled (--disable proxy): no rules, so no counters' };
  const { chooseProxyMode, endpointCounterReader } = await import('../netfilter/mode.js');
  const choice = await chooseProxyMode(ctx.config.proxyMode as ServerConfig['proxyMode'], probe);
  const read = endpointCounterReader(choice.mode);
  return Object.assign(() => read(ctx.names), { mode: choice.mode });
}

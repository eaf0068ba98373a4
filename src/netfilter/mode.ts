// Which data plane runs: nftables where `nft` is installed, new enough and accepted by the kernel,
// else iptables, with one log line saying why. An explicit `--proxy-mode iptables` is never second-guessed.

import type { HostNames } from '../config.js';
import { readIptablesEndpointCounters, type EndpointCounter } from './counters.js';
import { probeNftables, type NftSupport } from './nft.js';
import { readNftEndpointCounters } from './nft-counters.js';
import type { ProxyMode } from './plane.js';

export interface ModeChoice {
  mode: ProxyMode;
  /** The log line for the choice (a fallback says why). */
  message: string;
  /** True when nftables was wanted (asked for, or the default) but cannot run here. */
  fellBack: boolean;
}

/** Pure: the choice given what was asked for and what the probe found. */
export function decideProxyMode(requested: ProxyMode | undefined, nft: NftSupport | undefined): ModeChoice {
  if (requested === 'iptables') return { mode: 'iptables', message: 'proxy mode iptables (--proxy-mode iptables)', fellBack: false };
  if (nft?.ok) return { mode: 'nftables', message: `proxy mode nftables (${nft.version ?? 'nft'}${requested ? '' : ', the default'})`, fellBack: false };
  const why = nft?.reason ?? 'nft was not probed';
  const asked = requested === 'nftables' ? '--proxy-mode nftables was asked for, but' : 'the default nftables mode cannot run:';
  return { mode: 'iptables', message: `proxy mode iptables: ${asked} ${why}`, fellBack: true };
}

export async function chooseProxyMode(requested: ProxyMode | undefined, probe: () => Promise<NftSupport> = probeNftables): Promise<ModeChoice> {
  return decideProxyMode(requested, requested === 'iptables' ? undefined : await probe());
}

/** The per-endpoint counter reader of a mode (the UI's kernel counters): rule counters of that mode's rules. */
export function endpointCounterReader(mode: ProxyMode): (names: HostNames) => Promise<EndpointCounter[]> {
  return mode === 'nftables' ? readNftEndpointCounters : readIptablesEndpointCounters;
}

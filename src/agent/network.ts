// Which Docker network the Pods live on: reuse ours, (re)create it, or refuse because something that
// is not ours already holds the subnet or the bridge name. Pure; the adapter lists and acts.

import { cidrsOverlap, nthAddress } from '../util/ip.js';

export interface NetworkSummary {
  id: string;
  name: string;
  driver: string;
  subnets: string[];
  bridgeName?: string;
  labels: Record<string, string>;
  /** Containers attached (from inspect); undefined when unknown. */
  containers?: number;
}

export interface WantedNetwork {
  name: string;
  subnet: string;
  bridge: string;
  instanceLabel: string;
  instanceValue: string;
}

export type NetworkDecision =
  | { action: 'reuse'; id: string }
  | { action: 'create' }
  | { action: 'recreate'; id: string; why: string }
  | { action: 'refuse'; message: string };

export function gatewayOf(subnet: string): string {
  return nthAddress(subnet, 1);
}

export function decideNetwork(networks: NetworkSummary[], want: WantedNetwork): NetworkDecision {
  for (const n of networks) {
    if (n.name === want.name) continue;
    const clash = n.subnets.find((s) => cidrsOverlap(s, want.subnet));
    if (clash) {
      return { action: 'refuse', message: `the pod network ${want.subnet} overlaps Docker network "${n.name}" (${clash}): pick another --pod-cidr or remove that network` };
    }
    if (n.bridgeName && n.bridgeName === want.bridge) {
      return { action: 'refuse', message: `the bridge name ${want.bridge} is already used by Docker network "${n.name}": is another kubelite server with --instance ${want.instanceValue} running?` };
    }
  }
  const mine = networks.find((n) => n.name === want.name);
  if (!mine) return { action: 'create' };
  if (mine.labels[want.instanceLabel] !== want.instanceValue) {
    return { action: 'refuse', message: `Docker network "${want.name}" exists but kubelite instance "${want.instanceValue}" did not create it (no ${want.instanceLabel}=${want.instanceValue} label): remove it or pick another --instance` };
  }
  if (mine.driver !== 'bridge' || mine.bridgeName !== want.bridge || mine.subnets.length !== 1 || mine.subnets[0] !== want.subnet) {
    const why = `it has subnet ${mine.subnets.join(',') || 'none'} on bridge ${mine.bridgeName ?? '?'}, wanted ${want.subnet} on ${want.bridge}`;
    if ((mine.containers ?? 0) > 0) return { action: 'refuse', message: `Docker network "${want.name}" must change (${why}) but ${mine.containers} containers are attached: delete its Pods or run \`kubelite cleanup\` first` };
    return { action: 'recreate', id: mine.id, why };
  }
  return { action: 'reuse', id: mine.id };
}

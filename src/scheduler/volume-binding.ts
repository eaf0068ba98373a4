// kube-scheduler's VolumeBinding filter, for volumes already bound: a Pod whose claim is bound to a
// volume with node affinity (a local-path directory lives on one node) may only go to a node that
// satisfies it, so a recreated StatefulSet Pod lands where its data is. Unbound claims do not
// restrict the node (WaitForFirstConsumer: the chosen node decides where the volume is made). Pure.

import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../api/types.js';
import { nodeAffinityMatcher, type NodeMatcher } from './node-affinity.js';

export function volumeNodeMatcher(
  pod: Pod,
  claim: (namespace: string, name: string) => PersistentVolumeClaim | undefined,
  volume: (name: string) => PersistentVolume | undefined,
): NodeMatcher | undefined {
  const matchers: NodeMatcher[] = [];
  for (const v of pod.spec.volumes ?? []) {
    const name = v.persistentVolumeClaim?.claimName;
    if (!name) continue;
    const c = claim(pod.metadata.namespace ?? 'default', name);
    const pv = c?.spec.volumeName ? volume(c.spec.volumeName) : undefined;
    const terms = pv?.spec.nodeAffinity?.required?.nodeSelectorTerms;
    if (!terms) continue;
    // The volume's required terms, read as a Pod's required node affinity.
    const probe = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } } as unknown as Pod;
    matchers.push(nodeAffinityMatcher(probe));
  }
  if (matchers.length === 0) return undefined;
  return (node) => matchers.every((m) => m(node));
}

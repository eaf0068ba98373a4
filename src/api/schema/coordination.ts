// coordination.k8s.io/v1 Lease: node heartbeats (kube-node-lease) and leader election.

import { COORDINATION, int, obj, ref, root, str, time, type Schema } from './builders.js';

export function coordinationSchemas(): Record<string, Schema> {
  return {
    [`${COORDINATION}Lease`]: root(
      { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
      'Lease defines a lease concept.',
      { spec: ref(`${COORDINATION}LeaseSpec`, 'spec contains the specification of the Lease.') },
    ),
    [`${COORDINATION}LeaseSpec`]: obj({
      holderIdentity: str('holderIdentity contains the identity of the holder of a current lease.'),
      leaseDurationSeconds: int('leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it.'),
      acquireTime: time('acquireTime is a time when the current lease was acquired.'),
      renewTime: time('renewTime is a time when the current holder of a lease has last updated the lease.'),
      leaseTransitions: int('leaseTransitions is the number of transitions of a lease between holders.'),
      strategy: str('Strategy indicates the strategy for picking the leader for coordinated leader election.'),
      preferredHolder: str('PreferredHolder signals to a lease holder that the lease has a more optimal holder.'),
    }),
  };
}

// coordination.k8s.io/v1 Lease: the leader election record kubelite's servers share.

import { COORDINATION, int, obj, root, str, time, type Schema } from './builders.js';

export function coordinationSchemas(): Record<string, Schema> {
  return {
    [`${COORDINATION}Lease`]: root(
      { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
      'Lease defines a lease concept.',
      {
        spec: obj(
          {
            holderIdentity: str('The identity of the holder of a current lease.'),
            leaseDurationSeconds: int('Duration that candidates for a lease need to wait to force acquire it, measured against the time of last observed renewTime.'),
            acquireTime: time('The time the current lease was acquired.'),
            renewTime: time('The time the current holder of a lease has last updated the lease.'),
            leaseTransitions: int('The number of transitions of a lease between holders.'),
            strategy: str('The strategy for picking the leader for coordinated leader election.'),
            preferredHolder: str('Signals to a lease holder that the lease has a more optimal holder and should be given up.'),
          },
          { description: 'Specification of the Lease.' },
        ),
      },
    ),
  };
}

// Namespaces: Active on create; the system ones may not be deleted; a deletion marks the namespace
// Terminating and leaves it to the namespace controller, which empties it and removes its
// spec.finalizers (they hold the deletion as metadata.finalizers do).

import type { KObject, Namespace } from '../../api/types.js';
import { R } from '../../api/resources.js';
import { errors } from '../../api/errors.js';
import { rfc3339 } from '../../util/time.js';
import type { RegistryStrategy } from '../strategy.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export const namespaceStrategy: RegistryStrategy = {
  prepareForCreate(obj) {
    obj.status = { phase: 'Active' };
  },

  pendingFinalizers(obj) {
    return (obj as Namespace).spec?.finalizers?.length ?? 0;
  },

  checkDelete(obj: KObject) {
    const name = obj.metadata.name!;
    if (SYSTEM_NAMESPACES.includes(name)) throw errors.forbidden(R.namespaces, name, 'this namespace may not be deleted');
  },

  beginGracefulDelete(_old, next) {
    next.metadata.deletionTimestamp ??= rfc3339();
    next.metadata.deletionGracePeriodSeconds = 0;
    next.status = { ...(next.status as object), phase: 'Terminating' };
    return true;
  },
};

// The controlling owner reference of any object (metav1.GetControllerOf).

import type { ObjectMeta, OwnerReference } from './types.js';

export function controllerRefOf(obj: { metadata: ObjectMeta }): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

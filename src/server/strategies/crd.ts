// CustomResourceDefinitions: a new definition starts with empty accepted names and no conditions (the
// CRD controller accepts the names and sets Established), records its storage version in
// status.storedVersions, and carries the cleanup finalizer that holds its deletion until its custom
// objects are gone. Writes warn about what kubelite stores but does not enforce (CEL rules).

import type { CustomResourceDefinition, KObject } from '../../api/types.js';
import { CRD_CLEANUP_FINALIZER, storageVersion } from '../../api/crd/resources.js';
import { validateCRD } from '../../api/validation/crd.js';
import type { RegistryStrategy } from '../strategy.js';

export const crdStrategy: RegistryStrategy = {
  prepareForCreate(obj) {
    const crd = obj as KObject as CustomResourceDefinition;
    const storage = storageVersion(crd);
    crd.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage] : [] };
    const finalizers = obj.metadata.finalizers ?? [];
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) obj.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
  },

  warnings(obj, old) {
    const warnings: string[] = [];
    validateCRD(obj, old, warnings);
    return warnings;
  },
};

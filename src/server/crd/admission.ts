// Admission of CustomResourceDefinitions: names already in use in the group (by a built-in resource,
// a served CRD, or another stored definition) and unapproved protected groups are refused with a 422
// naming the field, before anything is stored.

import type { CustomResourceDefinition, KObject } from '../../api/types.js';
import { R } from '../../api/resources.js';
import { errors } from '../../api/errors.js';
import { approvalCauses, nameConflicts } from '../../api/crd/conflicts.js';
import type { AdmissionHook } from '../admission.js';
import type { Registry } from '../registry.js';

export function crdAdmission(registry: Registry): AdmissionHook {
  return {
    resource: R.customresourcedefinitions,
    async admit(ctx, obj, old) {
      if (ctx.op === 'delete' || ctx.subresource) return;
      const crd = obj as KObject as CustomResourceDefinition;
      const approval = approvalCauses(crd);
      if (approval.length) throw errors.invalid('CustomResourceDefinition', crd.metadata.name ?? '', approval, 'apiextensions.k8s.io');
      const names = crd.spec?.names;
      const oldNames = (old as CustomResourceDefinition | undefined)?.spec?.names;
      // An update that keeps every name has nothing new to conflict.
      if (old && JSON.stringify(names) === JSON.stringify(oldNames) && crd.spec.group === (old as CustomResourceDefinition).spec.group) return;
      const others = (await registry.store.list(R.customresourcedefinitions)).items as CustomResourceDefinition[];
      const causes = nameConflicts(crd, registry.resources.all(), others);
      if (causes.length) throw errors.invalid('CustomResourceDefinition', crd.metadata.name ?? '', causes, 'apiextensions.k8s.io');
    },
  };
}

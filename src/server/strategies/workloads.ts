// Jobs, claims and volumes: what their registry strategies add to the default.
//  - A Job gets a selector and pod labels generated from its uid (unless manualSelector), as the API
//    server's job strategy does, so `kubectl logs job/x` and the controller find exactly its pods.
//  - A claim starts Pending and a volume Pending; both carry the protection finalizers that hold their
//    deletion while a Pod uses the claim (or a claim is bound to the volume).

import type { Job, KObject } from '../../api/types.js';
import { JOB_CONTROLLER_UID, JOB_NAME, LEGACY_JOB_CONTROLLER_UID, LEGACY_JOB_NAME, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER } from '../../api/well-known.js';
import type { RegistryStrategy } from '../strategy.js';

/** generateSelector of Kubernetes' job strategy: labels on the template, the selector on the uid. */
export function generateJobSelector(job: Job): void {
  if (job.spec.manualSelector === true) return;
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  const template = (job.spec.template ??= { spec: { containers: [] } });
  const meta = (template.metadata ??= {});
  meta.labels = { ...(meta.labels ?? {}), [JOB_CONTROLLER_UID]: uid, [JOB_NAME]: name, [LEGACY_JOB_CONTROLLER_UID]: uid, [LEGACY_JOB_NAME]: name };
  job.spec.selector ??= { matchLabels: { [JOB_CONTROLLER_UID]: uid } };
  // batch/v1 defaulting: a Job without labels takes its pod template's.
  if (!job.metadata.labels || Object.keys(job.metadata.labels).length === 0) job.metadata.labels = { ...meta.labels };
}

function withFinalizer(obj: KObject, finalizer: string): void {
  const list = obj.metadata.finalizers ?? [];
  if (!list.includes(finalizer)) obj.metadata.finalizers = [...list, finalizer];
}

export const jobStrategy: RegistryStrategy = {
  prepareForCreate(obj) {
    obj.status = {};
    generateJobSelector(obj as Job);
  },
};

export const claimStrategy: RegistryStrategy = {
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
    withFinalizer(obj, PVC_PROTECTION_FINALIZER);
  },
};

export const volumeStrategy: RegistryStrategy = {
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
    withFinalizer(obj, PV_PROTECTION_FINALIZER);
  },
};

// What may not change on update: Kubernetes' ValidateXUpdate rules for the kinds we serve.

import type { ResourceInfo } from '../resources.js';
import { validateWorkloadUpdate } from './update-workloads.js';
import { type Causes, child, forbidden, invalid, isObj, listAt, numAt, type Obj, objAt, strAt } from './field.js';

const IMMUTABLE = 'field is immutable';

/** Semantic equality: absent, null, [] and {} are the same, as after Kubernetes' decode/omitempty. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  const ea = isEmpty(a);
  const eb = isEmpty(b);
  if (ea || eb) return ea && eb;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => semanticEqual(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.values(v).every(isEmpty));
}

/** The first path at which two values differ, for telling the user what changed. */
export function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (semanticEqual(a, b)) return undefined;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
  }
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[k], b[k], child(path, k));
      if (d) return d;
    }
  }
  return path;
}

export function validateMetaUpdate(obj: Obj, old: Obj): Causes {
  const out: Causes = [];
  const m = objAt(obj.metadata);
  const om = objAt(old.metadata);
  for (const f of ['name', 'namespace'] as const) {
    if (strAt(m[f]) !== strAt(om[f])) out.push(invalid(child('metadata', f), strAt(m[f]), IMMUTABLE));
  }
  if (strAt(m.uid) && strAt(om.uid) && m.uid !== om.uid) out.push(invalid('metadata.uid', m.uid, IMMUTABLE));
  return out;
}

const POD_UPDATE_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function validatePodUpdate(obj: Obj, old: Obj): Causes {
  const out: Causes = [];
  const spec = objAt(obj.spec);
  const oldSpec = objAt(old.spec);

  const ads = numAt(spec.activeDeadlineSeconds);
  const oldAds = numAt(oldSpec.activeDeadlineSeconds);
  if (oldAds !== undefined && ads === undefined) {
    out.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  } else if (oldAds !== undefined && ads !== undefined && ads > oldAds) {
    out.push(invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value'));
  }

  // Mask the mutable fields with the old values, then whatever still differs is forbidden.
  const masked: Obj = { ...spec };
  for (const list of ['containers', 'initContainers'] as const) {
    const cur = listAt(spec[list]);
    const prev = listAt(oldSpec[list]);
    if (cur.length === prev.length) masked[list] = cur.map((c, i) => (isObj(c) ? { ...c, image: prev[i].image } : c));
  }
  masked.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  const tols = listAt(spec.tolerations);
  const oldTols = listAt(oldSpec.tolerations);
  if (oldTols.every((t) => tols.some((n) => semanticEqual(n, t)))) masked.tolerations = oldSpec.tolerations;
  const tgp = numAt(spec.terminationGracePeriodSeconds);
  const oldTgp = numAt(oldSpec.terminationGracePeriodSeconds);
  if (oldTgp !== undefined && oldTgp < 0 && tgp === 1) masked.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  // Scheduling gates may only be removed.
  const gates = listAt(spec.schedulingGates);
  const oldGates = listAt(oldSpec.schedulingGates);
  if (gates.every((g) => oldGates.some((o) => semanticEqual(o, g)))) masked.schedulingGates = oldSpec.schedulingGates;

  const diff = firstDifference(masked, oldSpec, 'spec');
  if (diff) out.push(forbidden('spec', `${POD_UPDATE_MESSAGE} (first difference at ${diff})`));
  return out;
}

function validateServiceUpdate(obj: Obj, old: Obj): Causes {
  const spec = objAt(obj.spec);
  const oldSpec = objAt(old.spec);
  const type = strAt(spec.type) || 'ClusterIP';
  const oldType = strAt(oldSpec.type) || 'ClusterIP';
  const oldIP = strAt(oldSpec.clusterIP);
  // Changing to or from ExternalName releases or allocates the cluster IP, which Kubernetes allows.
  if (type === 'ExternalName' || oldType === 'ExternalName' || !oldIP) return [];
  const out: Causes = [];
  if (strAt(spec.clusterIP) !== oldIP) out.push(invalid('spec.clusterIP', strAt(spec.clusterIP), IMMUTABLE));
  const ips = listAt<unknown>(spec.clusterIPs);
  if (ips.length > 0 && ips[0] !== oldIP) out.push(invalid('spec.clusterIPs[0]', ips[0], IMMUTABLE));
  return out;
}

function validateSelectorUpdate(obj: Obj, old: Obj): Causes {
  const sel = objAt(obj.spec).selector;
  const oldSel = objAt(old.spec).selector;
  return semanticEqual(sel, oldSel) ? [] : [invalid('spec.selector', sel ?? null, IMMUTABLE)];
}

function validateImmutableData(obj: Obj, old: Obj, fields: string[]): Causes {
  if (old.immutable !== true) return [];
  const out: Causes = [];
  if (obj.immutable !== true) out.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) {
    if (!semanticEqual(obj[f], old[f])) out.push(forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return out;
}

function validateNodeUpdate(obj: Obj, old: Obj): Causes {
  const out: Causes = [];
  const cidr = strAt(objAt(obj.spec).podCIDR);
  const oldCidr = strAt(objAt(old.spec).podCIDR);
  if (oldCidr && cidr !== oldCidr) out.push(forbidden('spec.podCIDR', 'node updates may not change podCIDR except from "" to valid'));
  return out;
}

/** Rules that compare the new object with the stored one. */
export function validateUpdate(res: ResourceInfo, obj: Obj, old: Obj): Causes {
  const out = validateMetaUpdate(obj, old);
  switch (res.kind) {
    case 'Pod':
      out.push(...validatePodUpdate(obj, old));
      break;
    case 'Service':
      out.push(...validateServiceUpdate(obj, old));
      break;
    case 'Deployment':
    case 'ReplicaSet':
      out.push(...validateSelectorUpdate(obj, old));
      break;
    case 'ConfigMap':
      out.push(...validateImmutableData(obj, old, ['data', 'binaryData']));
      break;
    case 'Secret':
      out.push(...validateImmutableData(obj, old, ['data']));
      if ((strAt(obj.type) || 'Opaque') !== (strAt(old.type) || 'Opaque')) out.push(invalid('type', strAt(obj.type), IMMUTABLE));
      break;
    case 'EndpointSlice':
      if (strAt(obj.addressType) !== strAt(old.addressType)) out.push(invalid('addressType', strAt(obj.addressType), IMMUTABLE));
      break;
    case 'IngressClass': {
      const c = strAt(objAt(obj.spec).controller);
      if (c !== strAt(objAt(old.spec).controller)) out.push(invalid('spec.controller', c, IMMUTABLE));
      break;
    }
    case 'Node':
      out.push(...validateNodeUpdate(obj, old));
      break;
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
    case 'PersistentVolumeClaim':
    case 'PersistentVolume':
    case 'StorageClass':
    case 'ControllerRevision':
      out.push(...validateWorkloadUpdate(res.kind, obj, old));
      break;
    default:
      break;
  }
  return out;
}

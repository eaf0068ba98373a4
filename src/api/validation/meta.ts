// ObjectMeta, labels, annotations and label selectors (apimachinery's ValidateObjectMeta and
// metav1validation).

import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, maskTrailingDash } from '../names.js';
import type { ResourceInfo } from '../resources.js';
import { isPathSegmentName } from './rbac.js';
import type { LabelSelector } from '../types.js';
import { type Causes, child, each, forbidden, index, invalid, isObj, listAt, objAt, required, strAt, strMapAt, tooLong } from './field.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** Which name rule a kind's `metadata.name` follows in Kubernetes. */
export function nameRule(res: ResourceInfo): (name: string) => string[] {
  switch (res.kind) {
    case 'Namespace':
      return isDNS1123Label;
    case 'Service':
      return isDNS1035Label;
    case 'Role':
    case 'ClusterRole':
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      return isPathSegmentName;
    default:
      return isDNS1123Subdomain;
  }
}

export function validateLabels(labels: unknown, path: string): Causes {
  const out: Causes = [];
  for (const [k, v] of Object.entries(strMapAt(labels))) {
    out.push(...each(path, k, isQualifiedName(k)));
    if (typeof v === 'string') out.push(...each(path, v, isValidLabelValue(v)));
  }
  return out;
}

export function validateAnnotations(annotations: unknown, path: string): Causes {
  const out: Causes = [];
  let size = 0;
  for (const [k, v] of Object.entries(strMapAt(annotations))) {
    // Kubernetes checks the lower-cased key: annotation keys may use capitals in the name part.
    out.push(...each(path, k, isQualifiedName(k.toLowerCase())));
    size += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : '');
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) out.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return out;
}

function validateOwnerReferences(refs: unknown, path: string): Causes {
  const out: Causes = [];
  const controllers: string[] = [];
  for (const r of listAt(refs)) {
    // Kubernetes reports these without the list index.
    const apiVersion = strAt(r.apiVersion);
    if (!apiVersion) out.push(invalid(child(path, 'apiVersion'), apiVersion, 'version must not be empty'));
    else if (apiVersion.split('/').length > 2) out.push(invalid(child(path, 'apiVersion'), apiVersion, 'unexpected GroupVersion string'));
    if (!strAt(r.kind)) out.push(invalid(child(path, 'kind'), strAt(r.kind), 'kind must not be empty'));
    if (!strAt(r.name)) out.push(invalid(child(path, 'name'), strAt(r.name), 'name must not be empty'));
    if (!strAt(r.uid)) out.push(invalid(child(path, 'uid'), strAt(r.uid), 'uid must not be empty'));
    if (r.controller === true) controllers.push(`${strAt(r.kind)}/${strAt(r.name)}`);
  }
  if (controllers.length > 1) {
    out.push(
      invalid(
        path,
        refs,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
      ),
    );
  }
  return out;
}

function validateFinalizers(finalizers: unknown, path: string): Causes {
  const out: Causes = [];
  const list = listAt<unknown>(finalizers).filter((f): f is string => typeof f === 'string');
  for (const f of list) out.push(...each(path, f, isQualifiedName(f)));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    out.push(invalid(path, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return out;
}

/** metadata of a stored object: name (or generateName), namespace scoping, labels, annotations, owners. */
export function validateObjectMeta(res: ResourceInfo, meta: unknown, path = 'metadata'): Causes {
  const m = objAt(meta);
  const out: Causes = [];
  const rule = nameRule(res);
  const name = strAt(m.name);
  const generateName = strAt(m.generateName);
  if (generateName) out.push(...each(child(path, 'generateName'), generateName, rule(maskTrailingDash(generateName))));
  if (!name) {
    if (!generateName) out.push(required(child(path, 'name'), 'name or generateName is required'));
  } else {
    out.push(...each(child(path, 'name'), name, rule(name)));
  }
  const ns = strAt(m.namespace);
  if (res.namespaced) {
    if (!ns) out.push(required(child(path, 'namespace')));
    else out.push(...each(child(path, 'namespace'), ns, isDNS1123Label(ns)));
  } else if (ns) {
    out.push(forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  if (typeof m.generation === 'number' && m.generation < 0) out.push(invalid(child(path, 'generation'), m.generation, 'must be greater than or equal to 0'));
  out.push(...validateLabels(m.labels, child(path, 'labels')));
  out.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  out.push(...validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences')));
  out.push(...validateFinalizers(m.finalizers, child(path, 'finalizers')));
  return out;
}

/** The metadata of an embedded template (no name or namespace rules). */
export function validateTemplateMeta(meta: unknown, path: string): Causes {
  const m = objAt(meta);
  return [...validateLabels(m.labels, child(path, 'labels')), ...validateAnnotations(m.annotations, child(path, 'annotations'))];
}

/** metav1validation.ValidateLabelSelector. */
export function validateLabelSelector(sel: LabelSelector | undefined, path: string): Causes {
  if (!isObj(sel)) return [];
  const out: Causes = [...validateLabels(sel.matchLabels, child(path, 'matchLabels'))];
  listAt(sel.matchExpressions).forEach((e, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    const values = listAt<unknown>(e.values);
    const op = strAt(e.operator);
    switch (op) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) out.push(required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) out.push(forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        out.push(invalid(child(p, 'operator'), op, 'not a valid selector operator'));
    }
    out.push(...each(child(p, 'key'), strAt(e.key), isQualifiedName(strAt(e.key))));
    values.forEach((v, j) => {
      if (typeof v === 'string') out.push(...each(index(child(p, 'values'), j), v, isValidLabelValue(v)));
    });
  });
  return out;
}

/** True when a LabelSelector selects nothing in particular (no labels, no expressions). */
export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

// Name conflicts of a CustomResourceDefinition with what its group already serves (the naming
// controller's checks of apiextensions-apiserver, answered at admission here so the user hears of
// them at once: 422 naming the field), and the approval Kubernetes requires for its own groups. Pure.

import type { ResourceInfo } from '../resources.js';
import type { CustomResourceDefinition, StatusCause } from '../types.js';
import { index, invalid, required } from '../validation/field.js';
import { servedNames } from './resources.js';

export const API_APPROVED_ANNOTATION = 'api-approved.kubernetes.io';

/** Groups Kubernetes reserves for itself (`*.k8s.io`, `*.kubernetes.io`). */
export function isProtectedGroup(group: string): boolean {
  return group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
}

interface Taken {
  by: string;
}

/**
 * Causes for every name of `crd` already used in its group by a served resource (built-in or another
 * CRD's) or by another definition of the group. `others` are the other stored definitions.
 */
export function nameConflicts(crd: CustomResourceDefinition, served: readonly ResourceInfo[], others: readonly CustomResourceDefinition[]): StatusCause[] {
  const group = crd.spec?.group ?? '';
  const self = crd.metadata.name;
  const resourceNames = new Map<string, Taken>();
  const kindNames = new Map<string, Taken>();
  const addNames = (by: string, names: { plural?: string; singular?: string; shortNames?: string[]; kind?: string; listKind?: string }) => {
    for (const n of [names.plural, names.singular, ...(names.shortNames ?? [])]) if (n && !resourceNames.has(n)) resourceNames.set(n, { by });
    for (const k of [names.kind, names.listKind]) if (k && !kindNames.has(k)) kindNames.set(k, { by });
  };
  for (const r of served) {
    if (r.group !== group || (r.crd && r.crd === self)) continue;
    addNames(r.crd ? `customresourcedefinition ${r.crd}` : `the built-in resource ${r.plural}${r.group ? '.' + r.group : ''}`, r);
  }
  for (const o of others) {
    if (o.metadata.name === self || o.spec?.group !== group) continue;
    addNames(`customresourcedefinition ${o.metadata.name}`, servedNames(o));
  }
  const out: StatusCause[] = [];
  const names = crd.spec.names;
  const check = (field: string, value: string | undefined, table: Map<string, Taken>) => {
    const t = value ? table.get(value) : undefined;
    if (t) out.push(invalid(field, value, `"${value}" is already in use by ${t.by}`));
  };
  check('spec.names.plural', names.plural, resourceNames);
  check('spec.names.singular', names.singular, resourceNames);
  (names.shortNames ?? []).forEach((s, i) => check(index('spec.names.shortNames', i), s, resourceNames));
  check('spec.names.kind', names.kind, kindNames);
  check('spec.names.listKind', names.listKind, kindNames);
  return out;
}

/** A definition in a protected group needs the approval annotation (kube-apiserver refuses it without). */
export function approvalCauses(crd: CustomResourceDefinition): StatusCause[] {
  const group = crd.spec?.group ?? '';
  if (!isProtectedGroup(group)) return [];
  if (crd.metadata.annotations?.[API_APPROVED_ANNOTATION]) return [];
  return [required(`metadata.annotations[${API_APPROVED_ANNOTATION}]`, `protected groups must have approval annotation "${API_APPROVED_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111`)];
}

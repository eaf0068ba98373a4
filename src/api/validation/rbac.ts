// RBAC objects (pkg/apis/rbac/validation) and ServiceAccounts: rules that say what they grant, bindings
// whose roleRef never changes, subjects of the three kinds Kubernetes knows.

import { isDNS1123Label, isDNS1123Subdomain } from '../names.js';
import { type Causes, child, each, index, invalid, isObj, listAt, notSupported, type Obj, objAt, required, strAt } from './field.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** apimachinery's ValidatePathSegmentName: RBAC names may hold `:` (`system:basic-user`). */
export function isPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const out: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

function strList(v: unknown): string[] {
  return listAt<unknown>(v).filter((x): x is string => typeof x === 'string');
}

export function validatePolicyRule(rule: Obj, namespaced: boolean, path: string): Causes {
  const out: Causes = [];
  if (strList(rule.verbs).length === 0) out.push(required(child(path, 'verbs'), 'verbs must contain at least one value'));
  const urls = strList(rule.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) out.push(invalid(child(path, 'nonResourceURLs'), urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (strList(rule.apiGroups).length || strList(rule.resources).length || strList(rule.resourceNames).length) {
      out.push(invalid(child(path, 'nonResourceURLs'), urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return out;
  }
  if (strList(rule.apiGroups).length === 0) out.push(required(child(path, 'apiGroups'), 'resource rules must supply at least one api group'));
  if (strList(rule.resources).length === 0) out.push(required(child(path, 'resources'), 'resource rules must supply at least one resource'));
  return out;
}

function validateRules(o: Obj, namespaced: boolean): Causes {
  const out: Causes = [];
  listAt(o.rules).forEach((r, i) => out.push(...validatePolicyRule(objAt(r), namespaced, index('rules', i))));
  return out;
}

export function validateRole(o: Obj): Causes {
  return validateRules(o, true);
}

export function validateClusterRole(o: Obj): Causes {
  const out: Causes = [];
  const agg = isObj(o.aggregationRule) ? o.aggregationRule : undefined;
  if (agg) {
    if (listAt(agg.clusterRoleSelectors).length === 0) out.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    // The aggregation controller owns the rules of an aggregated role: whatever is there is replaced.
    return out;
  }
  return validateRules(o, false);
}

function validateSubject(s: Obj, namespaced: boolean, path: string): Causes {
  const out: Causes = [];
  const name = strAt(s.name);
  const kind = strAt(s.kind);
  const apiGroup = strAt(s.apiGroup);
  if (!name) out.push(required(child(path, 'name')));
  switch (kind) {
    case 'ServiceAccount':
      if (name) out.push(...each(child(path, 'name'), name, isDNS1123Subdomain(name)));
      if (apiGroup) out.push(notSupported(child(path, 'apiGroup'), apiGroup, ['']));
      if (!namespaced && !strAt(s.namespace)) out.push(required(child(path, 'namespace')));
      else if (strAt(s.namespace)) out.push(...each(child(path, 'namespace'), strAt(s.namespace), isDNS1123Label(strAt(s.namespace))));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) out.push(notSupported(child(path, 'apiGroup'), apiGroup, [RBAC_GROUP]));
      break;
    default:
      out.push(notSupported(child(path, 'kind'), kind, ['ServiceAccount', 'User', 'Group']));
  }
  return out;
}

function validateBinding(o: Obj, old: Obj | undefined, namespaced: boolean): Causes {
  const out: Causes = [];
  const ref = objAt(o.roleRef);
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (strAt(ref.apiGroup) !== RBAC_GROUP) out.push(notSupported('roleRef.apiGroup', strAt(ref.apiGroup), [RBAC_GROUP]));
  if (!kinds.includes(strAt(ref.kind))) out.push(notSupported('roleRef.kind', strAt(ref.kind), kinds));
  const name = strAt(ref.name);
  if (!name) out.push(required('roleRef.name'));
  else out.push(...each('roleRef.name', name, isPathSegmentName(name)));
  listAt(o.subjects).forEach((s, i) => out.push(...validateSubject(objAt(s), namespaced, index('subjects', i))));
  if (old) {
    const was = objAt(old.roleRef);
    if (strAt(was.apiGroup) !== strAt(ref.apiGroup) || strAt(was.kind) !== strAt(ref.kind) || strAt(was.name) !== name) {
      out.push(invalid('roleRef', o.roleRef, 'cannot change roleRef'));
    }
  }
  return out;
}

export function validateRoleBinding(o: Obj, old: Obj | undefined): Causes {
  return validateBinding(o, old, true);
}

export function validateClusterRoleBinding(o: Obj, old: Obj | undefined): Causes {
  return validateBinding(o, old, false);
}

/** SetDefaults_Subject: User and Group subjects belong to the RBAC group. */
export function defaultBindingSubjects(o: Obj): void {
  for (const s of listAt(o.subjects)) {
    if (!isObj(s) || s.apiGroup) continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
  }
}

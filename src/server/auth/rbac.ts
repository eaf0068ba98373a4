// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac), pure: a user and what they ask -> allowed or
// not, with Kubernetes' reasons. The bindings come from a PolicySource that finds them by subject
// (User:NAME, Group:NAME, ServiceAccount:NS/NAME), so a request looks only at the bindings that can
// apply to its user, however many other bindings there are.

import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../api/types.js';
import type { Attributes } from './attributes.js';
import { parseServiceAccountUsername, type UserInfo } from './user.js';

export interface PolicySource {
  /** ClusterRoleBindings naming any of these subject keys. */
  clusterRoleBindings(subjectKeys: string[]): readonly ClusterRoleBinding[];
  /** RoleBindings in `namespace` naming any of these subject keys. */
  roleBindings(namespace: string, subjectKeys: string[]): readonly RoleBinding[];
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
}

export interface Decision {
  allowed: boolean;
  /** `RBAC: allowed by ...` when allowed; the errors met (a role not found) otherwise, or ''. */
  reason: string;
}

/** The index keys of a subject, as a binding in `bindingNamespace` names it. */
export function subjectKey(s: Subject, bindingNamespace = ''): string | undefined {
  switch (s.kind) {
    case 'User':
      return `User:${s.name}`;
    case 'Group':
      return `Group:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns ? `ServiceAccount:${ns}/${s.name}` : undefined;
    }
    default:
      return undefined;
  }
}

/** Every key under which a binding can name this user. */
export function userKeys(user: UserInfo): string[] {
  const keys = [`User:${user.username}`, ...user.groups.map((g) => `Group:${g}`)];
  const sa = parseServiceAccountUsername(user.username);
  if (sa) keys.push(`ServiceAccount:${sa.namespace}/${sa.name}`);
  return keys;
}

function subjectDescription(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `ServiceAccount "${s.name}/${s.namespace || bindingNamespace}"`;
  return `${s.kind} "${s.name}"`;
}

/** The subject of `subjects` that is this user (appliesTo), if any. */
export function matchingSubject(user: UserInfo, subjects: readonly Subject[] | undefined, bindingNamespace: string): Subject | undefined {
  for (const s of subjects ?? []) {
    switch (s.kind) {
      case 'User':
        if (user.username === s.name) return s;
        break;
      case 'Group':
        if (user.groups.includes(s.name)) return s;
        break;
      case 'ServiceAccount': {
        const ns = s.namespace || bindingNamespace;
        if (ns && user.username === `system:serviceaccount:${ns}:${s.name}`) return s;
        break;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- rule matching (rbac/v1 helpers)

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.includes('*') || rule.verbs.includes(verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  const groups = rule.apiGroups ?? [];
  return groups.includes('*') || groups.includes(group);
}

export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    // `*/scale` grants the scale subresource of every resource.
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(attrs: Attributes, rule: PolicyRule): boolean {
  if (attrs.resourceRequest) {
    return verbMatches(rule, attrs.verb) && apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, attrs.resource, attrs.subresource) && resourceNameMatches(rule, attrs.name);
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path);
}

// ---------------------------------------------------------------- visiting the rules that apply

interface RuleSource {
  /** `ClusterRoleBinding "x" of ClusterRole "y" to Group "z"` */
  describe(): string;
  rules: readonly PolicyRule[];
}

/**
 * Visits every rule that applies to `user` in `namespace` ('' = cluster-wide bindings only), binding
 * by binding; stops when the visitor returns true. Errors (a binding's role that does not exist) go
 * to `errors`, as the RBAC authorizer collects them.
 */
export function visitRules(policy: PolicySource, user: UserInfo, namespace: string, visit: (src: RuleSource) => boolean, errors: string[] = []): boolean {
  const keys = userKeys(user);
  for (const b of policy.clusterRoleBindings(keys)) {
    const subject = matchingSubject(user, b.subjects, '');
    if (!subject) continue;
    const role = policy.clusterRole(b.roleRef.name);
    if (!role) {
      errors.push(`clusterrole.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
      continue;
    }
    const src = { rules: role.rules ?? [], describe: () => `ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${role.metadata.name}" to ${subjectDescription(subject, '')}` };
    if (visit(src)) return true;
  }
  if (!namespace) return false;
  for (const b of policy.roleBindings(namespace, keys)) {
    const subject = matchingSubject(user, b.subjects, namespace);
    if (!subject) continue;
    let rules: readonly PolicyRule[];
    let roleDesc: string;
    if (b.roleRef.kind === 'ClusterRole') {
      const role = policy.clusterRole(b.roleRef.name);
      if (!role) {
        errors.push(`clusterrole.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
        continue;
      }
      rules = role.rules ?? [];
      roleDesc = `ClusterRole "${b.roleRef.name}"`;
    } else {
      const role = policy.role(namespace, b.roleRef.name);
      if (!role) {
        errors.push(`role.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
        continue;
      }
      rules = role.rules ?? [];
      roleDesc = `Role "${b.roleRef.name}"`;
    }
    const src = { rules, describe: () => `RoleBinding "${b.metadata.name}/${namespace}" of ${roleDesc} to ${subjectDescription(subject, namespace)}` };
    if (visit(src)) return true;
  }
  return false;
}

/** RBAC's Authorize: allowed by the first rule that matches; otherwise denied, with any errors as the reason. */
export function authorize(policy: PolicySource, user: UserInfo, attrs: Attributes): Decision {
  const errors: string[] = [];
  let reason = '';
  const namespace = attrs.resourceRequest ? attrs.namespace : '';
  const allowed = visitRules(
    policy,
    user,
    namespace,
    (src) => {
      for (const rule of src.rules) {
        if (ruleAllows(attrs, rule)) {
          reason = `RBAC: allowed by ${src.describe()}`;
          return true;
        }
      }
      return false;
    },
    errors,
  );
  if (allowed) return { allowed: true, reason };
  return { allowed: false, reason: errors.length ? `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` : '' };
}

/** Every rule that applies to `user` in `namespace`, for SelfSubjectRulesReview. */
export function rulesFor(policy: PolicySource, user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  visitRules(
    policy,
    user,
    namespace,
    (src) => {
      rules.push(...src.rules);
      return false;
    },
    errors,
  );
  return { rules, errors };
}

/** The 403 message Kubernetes writes (responsewriters.forbiddenMessage), reason appended after `: `. */
export function forbiddenMessage(user: UserInfo, attrs: Attributes, reason = ''): string {
  let msg: string;
  if (!attrs.resourceRequest) msg = `User "${user.username}" cannot ${attrs.verb} path "${attrs.path}"`;
  else {
    const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    msg = attrs.namespace
      ? `User "${user.username}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" in the namespace "${attrs.namespace}"`
      : `User "${user.username}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" at the cluster scope`;
  }
  return reason ? `${msg}: ${reason}` : msg;
}

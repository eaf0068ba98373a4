// Who a request is: Kubernetes' user.Info (name, uid, groups, extra) and the well-known names
// (system:masters, system:authenticated, system:serviceaccount:NS:NAME).

import type { UserInfo } from '../../api/types.js';

export type { UserInfo };

export const ADMIN_USER = 'kubelite-admin';
export const GROUP_MASTERS = 'system:masters';
export const GROUP_AUTHENTICATED = 'system:authenticated';
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS_USER = 'system:anonymous';
export const GROUP_SERVICEACCOUNTS = 'system:serviceaccounts';
export const SA_PREFIX = 'system:serviceaccount:';

/** The user of the kubeconfig's bearer token: cluster-admin through system:masters, as kubeadm's admin.conf. */
export const ADMIN: UserInfo = Object.freeze({ username: ADMIN_USER, groups: Object.freeze([GROUP_MASTERS, GROUP_AUTHENTICATED]) as string[] });

export const ANONYMOUS: UserInfo = Object.freeze({ username: ANONYMOUS_USER, groups: Object.freeze([GROUP_UNAUTHENTICATED]) as string[] });

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`;
}

/** `system:serviceaccount:NS:NAME` -> {namespace, name}; anything else -> undefined. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const rest = username.slice(SA_PREFIX.length);
  const i = rest.indexOf(':');
  if (i <= 0 || i === rest.length - 1 || rest.indexOf(':', i + 1) >= 0) return undefined;
  return { namespace: rest.slice(0, i), name: rest.slice(i + 1) };
}

/** The groups every ServiceAccount is in (besides system:authenticated). */
export function serviceAccountGroups(namespace: string): string[] {
  return [GROUP_SERVICEACCOUNTS, `${GROUP_SERVICEACCOUNTS}:${namespace}`];
}

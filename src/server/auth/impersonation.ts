// Impersonation (apiserver's WithImpersonation filter): `Impersonate-User`, `Impersonate-Group`,
// `Impersonate-Uid` and `Impersonate-Extra-<key>` headers make a request act as another user, each
// one allowed only if the caller may `impersonate` it (users, groups, serviceaccounts in their
// namespace, uids, userextras/<key>). Pure: the caller hands in the authorizer.

import type { IncomingHttpHeaders } from 'node:http';
import type { ResourceAttrs } from './attributes.js';
import { ANONYMOUS_USER, GROUP_AUTHENTICATED, GROUP_UNAUTHENTICATED, parseServiceAccountUsername, serviceAccountGroups, type UserInfo } from './user.js';

export interface ImpersonationRequest {
  user: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export class ImpersonationError extends Error {}

type Headers = IncomingHttpHeaders | NodeJS.Dict<string[]>;

function values(headers: Headers, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => x.trim()).filter((x) => x !== '');
}

/** The impersonation a request asks for (undefined: none). `headers` should be headersDistinct, so repeated groups stay apart. */
export function impersonationRequest(headers: Headers): ImpersonationRequest | undefined {
  const users = values(headers, 'impersonate-user');
  const groups = values(headers, 'impersonate-group');
  const uids = values(headers, 'impersonate-uid');
  const extra: Record<string, string[]> = {};
  for (const name of Object.keys(headers)) {
    if (!name.startsWith('impersonate-extra-')) continue;
    let key: string;
    try {
      key = decodeURIComponent(name.slice('impersonate-extra-'.length));
    } catch {
      throw new ImpersonationError(`invalid Impersonate-Extra header ${JSON.stringify(name)}`);
    }
    extra[key] = values(headers, name);
  }
  if (users.length === 0) {
    if (groups.length || uids.length || Object.keys(extra).length) throw new ImpersonationError('requested impersonation of groups, uid or extra fields without impersonating a user');
    return undefined;
  }
  if (users.length > 1) throw new ImpersonationError('only one Impersonate-User header may be given');
  if (uids.length > 1) throw new ImpersonationError('only one Impersonate-Uid header may be given');
  return { user: users[0], uid: uids[0], groups, extra };
}

/** The `impersonate` checks a request needs, one per thing it asks to be. */
export function impersonationChecks(r: ImpersonationRequest): ResourceAttrs[] {
  const base = { resourceRequest: true as const, verb: 'impersonate', apiVersion: 'v1', subresource: '', namespace: '' };
  const out: ResourceAttrs[] = [];
  const sa = parseServiceAccountUsername(r.user);
  if (sa) out.push({ ...base, apiGroup: '', resource: 'serviceaccounts', name: sa.name, namespace: sa.namespace });
  else out.push({ ...base, apiGroup: '', resource: 'users', name: r.user });
  for (const g of r.groups) out.push({ ...base, apiGroup: '', resource: 'groups', name: g });
  for (const [key, vals] of Object.entries(r.extra)) for (const v of vals) out.push({ ...base, apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
  if (r.uid) out.push({ ...base, apiGroup: 'authentication.k8s.io', resource: 'uids', name: r.uid });
  return out;
}

/** The user a permitted impersonation acts as. */
export function impersonatedUser(r: ImpersonationRequest): UserInfo {
  const sa = parseServiceAccountUsername(r.user);
  const groups = [...r.groups];
  // A ServiceAccount's groups are a fixed mapping: they come with it unless groups are given.
  if (sa && r.groups.length === 0) groups.push(...serviceAccountGroups(sa.namespace));
  if (r.user !== ANONYMOUS_USER) {
    if (!groups.includes(GROUP_AUTHENTICATED)) groups.push(GROUP_AUTHENTICATED);
  } else if (!groups.includes(GROUP_UNAUTHENTICATED)) groups.push(GROUP_UNAUTHENTICATED);
  return {
    username: r.user,
    ...(r.uid ? { uid: r.uid } : {}),
    groups,
    ...(Object.keys(r.extra).length ? { extra: r.extra } : {}),
  };
}

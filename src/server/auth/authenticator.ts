// Bearer tokens -> users. The kubeconfig's admin token is kubelite-admin in system:masters; a
// ServiceAccount token (a JWT from TokenRequest) is its ServiceAccount, valid only while what it is
// bound to still exists with the uid it names: a token of a deleted ServiceAccount or Pod is
// refused at once, however long it had left. Signature checks are cached per token (the costly part);
// the bound objects are looked at on every request, from the informer caches.

import crypto from 'node:crypto';
import type { KObject } from '../../api/types.js';
import { ADMIN, GROUP_AUTHENTICATED, serviceAccountGroups, type UserInfo } from './user.js';
import { looksLikeJWT, TokenError, type ServiceAccountTokens, type TokenClaims, type VerifiedToken } from './tokens.js';

/** How the authenticator finds the objects a token is bound to (informer cache, then the store). */
export interface BoundObjectLookup {
  serviceAccount(namespace: string, name: string): Promise<KObject | undefined>;
  pod(namespace: string, name: string): Promise<KObject | undefined>;
  secret(namespace: string, name: string): Promise<KObject | undefined>;
  node(name: string): Promise<KObject | undefined>;
}

export interface AuthenticatorOptions {
  adminToken: string;
  tokens: ServiceAccountTokens;
  lookup: BoundObjectLookup;
  /** Verified tokens kept (default 4096). */
  cacheSize?: number;
  now?: () => number;
}

export type AuthResult = { ok: true; user: UserInfo; audiences?: string[] } | { ok: false; error: string };

/** A Pod being deleted keeps its token for this long (the legacy validator's grace). */
const DELETION_GRACE_MS = 60_000;

export class Authenticator {
  private readonly cache = new Map<string, VerifiedToken>();
  private admin: Buffer;
  private readonly now: () => number;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.admin = Buffer.from(opts.adminToken);
    this.now = opts.now ?? Date.now;
  }

  /** A server that joins a cluster adopts the cluster's admin token. */
  setAdminToken(token: string): void {
    this.admin = Buffer.from(token);
  }

  isAdminToken(token: string): boolean {
    const given = Buffer.from(token);
    return given.length === this.admin.length && crypto.timingSafeEqual(given, this.admin);
  }

  /** The user of a bearer token for the API (its own audiences). */
  async authenticate(token: string, opts: { allowAdmin: boolean }): Promise<AuthResult> {
    if (this.isAdminToken(token)) return opts.allowAdmin ? { ok: true, user: ADMIN } : { ok: false, error: 'the admin token is not accepted on this address' };
    return this.serviceAccountToken(token);
  }

  /** TokenReview: any token, checked against the given audiences (default the API's). */
  async review(token: string, audiences?: string[]): Promise<AuthResult> {
    if (this.isAdminToken(token)) return { ok: true, user: ADMIN, audiences: audiences ?? this.opts.tokens.apiAudiences };
    return this.serviceAccountToken(token, audiences);
  }

  private async serviceAccountToken(token: string, audiences?: string[]): Promise<AuthResult> {
    if (!looksLikeJWT(token)) return { ok: false, error: 'invalid bearer token' };
    let verified = audiences ? undefined : this.cache.get(token);
    try {
      if (!verified) {
        verified = await this.opts.tokens.verify(token, audiences);
        if (!audiences) this.remember(token, verified);
      } else if (verified.expiresAt + 60_000 < this.now()) {
        this.cache.delete(token);
        return { ok: false, error: 'service account token has expired' };
      }
    } catch (err) {
      return { ok: false, error: err instanceof TokenError ? err.message : 'invalid bearer token' };
    }
    const problem = await this.checkBound(verified.claims);
    if (problem) return { ok: false, error: problem };
    const aud = verified.claims.aud;
    return { ok: true, user: userOf(verified.claims), audiences: audiences ? (Array.isArray(aud) ? aud : aud ? [aud] : []).filter((a) => audiences.includes(a)) : undefined };
  }

  private remember(token: string, v: VerifiedToken): void {
    const max = this.opts.cacheSize ?? 4096;
    if (this.cache.size >= max) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token, v);
  }

  /** Why the token's bound objects make it invalid, or undefined when they are all there. */
  private async checkBound(c: TokenClaims): Promise<string | undefined> {
    const k = c['kubernetes.io'];
    const ns = k.namespace;
    const sa = await this.opts.lookup.serviceAccount(ns, k.serviceaccount.name);
    if (!sa || sa.metadata.deletionTimestamp) return `service account ${ns}/${k.serviceaccount.name} has been deleted`;
    if (sa.metadata.uid !== k.serviceaccount.uid) return `service account UID (${k.serviceaccount.uid}) does not match claim (${sa.metadata.uid})`;
    const gone = (o: KObject | undefined, uid: string) => !o || o.metadata.uid !== uid || (!!o.metadata.deletionTimestamp && Date.parse(o.metadata.deletionTimestamp) + DELETION_GRACE_MS < this.now());
    if (k.pod && gone(await this.opts.lookup.pod(ns, k.pod.name), k.pod.uid)) return `pod ${ns}/${k.pod.name} (uid ${k.pod.uid}) the token is bound to no longer exists`;
    if (k.secret && gone(await this.opts.lookup.secret(ns, k.secret.name), k.secret.uid)) return `secret ${ns}/${k.secret.name} (uid ${k.secret.uid}) the token is bound to no longer exists`;
    if (k.node && gone(await this.opts.lookup.node(k.node.name), k.node.uid)) return `node ${k.node.name} (uid ${k.node.uid}) the token is bound to no longer exists`;
    return undefined;
  }
}

/** The user a verified token names, with the extra fields kube-apiserver adds. */
export function userOf(c: TokenClaims): UserInfo {
  const k = c['kubernetes.io'];
  const extra: Record<string, string[]> = {};
  if (k.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.node) {
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  if (c.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${c.jti}`];
  return {
    username: c.sub!,
    uid: k.serviceaccount.uid,
    groups: [...serviceAccountGroups(k.namespace), GROUP_AUTHENTICATED],
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

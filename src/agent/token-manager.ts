// The service account tokens of projected volumes (the kubelet's token manager): one TokenRequest per
// Pod and token source, bound to the Pod (so it dies with it), kept until 80% of its lifetime has
// passed (or 24 h), then replaced; the Pod's next sync writes the new token into its volume.

import type { Pod, TokenRequest } from '../api/types.js';
import { R } from '../api/resources.js';
import type { ApiClient } from '../client/types.js';
import type { TokenSource } from './projected.js';

export interface HeldToken {
  token: string;
  /** ms since the epoch */
  issuedAt: number;
  expiresAt: number;
}

const MAX_AGE_MS = 24 * 3600 * 1000;

/** When a token should be replaced: at 80% of its lifetime, or after 24 h, whichever comes first. */
export function refreshAt(t: Pick<HeldToken, 'issuedAt' | 'expiresAt'>): number {
  return Math.min(t.issuedAt + 0.8 * (t.expiresAt - t.issuedAt), t.issuedAt + MAX_AGE_MS);
}

export function needsRefresh(t: Pick<HeldToken, 'issuedAt' | 'expiresAt'> | undefined, now: number): boolean {
  return !t || now >= refreshAt(t);
}

export class TokenManager {
  private readonly held = new Map<string, HeldToken>();

  constructor(
    private readonly client: Pick<ApiClient, 'createSubresource'>,
    private readonly now: () => number = Date.now,
  ) {}

  private key(pod: Pod, src: TokenSource): string {
    return `${pod.metadata.uid}|${src.audience ?? ''}|${src.expirationSeconds}`;
  }

  /** A valid token for this Pod and source: the one held, or a fresh one when it is due. */
  async get(pod: Pod, src: TokenSource): Promise<string> {
    const key = this.key(pod, src);
    const have = this.held.get(key);
    const now = this.now();
    if (have && !needsRefresh(have, now)) return have.token;
    const body: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: {
        ...(src.audience ? { audiences: [src.audience] } : {}),
        expirationSeconds: src.expirationSeconds,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    };
    const out = (await this.client.createSubresource(R.serviceaccounts, pod.metadata.namespace ?? 'default', pod.spec.serviceAccountName || 'default', 'token', body)) as TokenRequest;
    const token = out.status?.token;
    if (!token) throw new Error('the TokenRequest answer carries no token');
    const expiresAt = Date.parse(out.status!.expirationTimestamp);
    this.held.set(key, { token, issuedAt: now, expiresAt: Number.isFinite(expiresAt) ? expiresAt : now + src.expirationSeconds * 1000 });
    return token;
  }

  /** The earliest time one of the Pod's tokens is due for replacement (ms since the epoch). */
  nextRefresh(podUid: string): number | undefined {
    let next: number | undefined;
    for (const [k, t] of this.held) if (k.startsWith(`${podUid}|`)) next = Math.min(next ?? Infinity, refreshAt(t));
    return next;
  }

  forget(podUid: string): void {
    for (const k of [...this.held.keys()]) if (k.startsWith(`${podUid}|`)) this.held.delete(k);
  }
}

// Authentication and authorization of every API request: who is asking (the kubeconfig's admin
// token, a ServiceAccount token, impersonation on top), and may they (system:masters always; anyone
// else by RBAC). One express middleware before every route, and the same check for WebSocket
// upgrades (exec, port-forward). Failures are Statuses: 401 Unauthorized, 403 Forbidden naming the
// user, verb, resource and namespace as Kubernetes words it.

import type { IncomingMessage } from 'node:http';
import type express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { R, type ResourceInfo } from '../../api/resources.js';
import { errors, isStatusError, StatusError } from '../../api/errors.js';
import type { KObject, PolicyRule } from '../../api/types.js';
import type { InformerFactory, Informer } from '../../client/informer.js';
import { requestAttributes, type Attributes } from './attributes.js';
import { Authenticator, type AuthResult } from './authenticator.js';
import { ImpersonationError, impersonatedUser, impersonationChecks, impersonationRequest } from './impersonation.js';
import { PolicyIndex } from './policy-index.js';
import { authorize as rbacAuthorize, forbiddenMessage, rulesFor, type Decision } from './rbac.js';
import { mountReviews } from './reviews.js';
import type { ServiceAccountTokens } from './tokens.js';
import { GROUP_MASTERS, type UserInfo } from './user.js';

export { ServiceAccountTokens } from './tokens.js';
export { serveTokenRequest } from './token-request.js';
export { ADMIN, ADMIN_USER, GROUP_MASTERS, serviceAccountUsername } from './user.js';
export type { UserInfo } from './user.js';

/** Paths anyone may read (system:public-info-viewer), answered without looking at credentials. */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

export interface AuthOptions {
  adminToken: string;
  tokens: ServiceAccountTokens;
  informers: InformerFactory;
  /** Reads an object when the informer cache does not have it (yet). */
  get(res: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject>;
  /** Whether a request came in on the address Pods use, where the admin token is not accepted. */
  podFacing?(req: IncomingMessage): boolean;
}

export class Auth {
  readonly policy: PolicyIndex;
  readonly authenticator: Authenticator;
  private readonly caches: Informer<KObject>[];

  constructor(private readonly opts: AuthOptions) {
    this.policy = new PolicyIndex(opts.informers);
    const sa = opts.informers.for<KObject>(R.serviceaccounts);
    const pods = opts.informers.for<KObject>(R.pods);
    this.caches = [sa, pods];
    const find = (inf: Informer<KObject> | undefined, res: ResourceInfo) => async (ns: string | undefined, name: string) => {
      const hit = inf?.get(res.namespaced ? ns : undefined, name);
      if (hit) return hit;
      try {
        return await opts.get(res, ns, name);
      } catch (err) {
        if (isStatusError(err, 'NotFound')) return undefined;
        throw err;
      }
    };
    const saFind = find(sa, R.serviceaccounts);
    const podFind = find(pods, R.pods);
    const secretFind = find(undefined, R.secrets);
    const nodeFind = find(undefined, R.nodes);
    this.authenticator = new Authenticator({
      adminToken: opts.adminToken,
      tokens: opts.tokens,
      lookup: { serviceAccount: saFind, pod: podFind, secret: secretFind, node: (name) => nodeFind(undefined, name) },
    });
  }

  /** Starts the informers the decisions read; resolves once they have synced. */
  async start(): Promise<void> {
    await Promise.all([this.policy.start(), ...this.caches.map((c) => c.start())]);
  }

  /** A server that joins a cluster adopts the cluster's admin token. */
  setAdminToken(token: string): void {
    this.authenticator.setAdminToken(token);
  }

  /** system:masters may do anything (as kube-apiserver's privileged-group authorizer); everyone else by RBAC. */
  authorize(user: UserInfo, attrs: Attributes): Decision {
    if (user.groups.includes(GROUP_MASTERS)) return { allowed: true, reason: '' };
    return rbacAuthorize(this.policy, user, attrs);
  }

  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    return rulesFor(this.policy, user, namespace);
  }

  /** The user a request acts as (authenticated, then impersonated); throws 401/403/400 StatusErrors. */
  async identify(req: IncomingMessage): Promise<UserInfo> {
    const header = req.headers.authorization;
    if (!header || !/^Bearer\s/i.test(header)) throw errors.unauthorized();
    const token = header.slice(7).trim();
    const r = await this.authenticator.authenticate(token, { allowAdmin: !this.opts.podFacing?.(req) });
    if (!r.ok) throw errors.unauthorized();
    return this.impersonate(r.user, req);
  }

  private impersonate(user: UserInfo, req: IncomingMessage): UserInfo {
    if (!hasImpersonationHeader(req.headers)) return user;
    let want;
    try {
      want = impersonationRequest(req.headersDistinct);
    } catch (err) {
      if (err instanceof ImpersonationError) throw errors.badRequest(err.message);
      throw err;
    }
    if (!want) return user;
    for (const attrs of impersonationChecks(want)) {
      const d = this.authorize(user, attrs);
      if (!d.allowed) throw forbidden(user, attrs, d.reason);
    }
    return impersonatedUser(want);
  }

  /** Authenticates and authorises a request; throws the Status to send. */
  async check(req: IncomingMessage, path: string, query: Record<string, unknown>): Promise<UserInfo> {
    const user = await this.identify(req);
    const attrs = requestAttributes(req.method ?? 'GET', path, query);
    // Until the RBAC caches have synced (the store may still be coming up) a decision would be a guess.
    if (!user.groups.includes(GROUP_MASTERS) && !this.policy.synced) throw errors.serviceUnavailable('the authorizer is starting: RBAC policy not loaded yet');
    const d = this.authorize(user, attrs);
    if (!d.allowed) throw forbidden(user, attrs, d.reason);
    return user;
  }

  /** The express middleware: public paths pass; everything else needs a user allowed to do it. */
  middleware(): express.RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (PUBLIC_PATHS.has(req.path)) return next();
      this.check(req, req.path, req.query as Record<string, unknown>).then(
        (user) => {
          res.locals.user = user;
          next();
        },
        (err) => next(err),
      );
    };
  }

  /** The reviews and the issuer discovery documents, mounted after the middleware. */
  mountRoutes(app: express.Express): void {
    mountReviews(app, {
      userOf: (res) => res.locals.user as UserInfo,
      authorize: (user, attrs) => this.authorize(user, attrs),
      rulesFor: (user, ns) => this.rulesFor(user, ns),
      reviewToken: (token, audiences) => this.authenticator.review(token, audiences),
    });
    const tokens = this.opts.tokens;
    app.get(['/.well-known/openid-configuration', '/.well-known/openid-configuration/'], (_req, res) => {
      res.json({ issuer: tokens.issuer, jwks_uri: `${tokens.issuer}/openid/v1/jwks`, response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'] });
    });
    app.get(['/openid/v1/jwks', '/openid/v1/jwks/'], (_req, res, next) => {
      tokens.publicJWK().then((jwk) => res.type('application/jwk-set+json').send(JSON.stringify({ keys: [jwk] })), next);
    });
  }

  /** TokenReview for other callers (the tests, a webhook). */
  review(token: string, audiences?: string[]): Promise<AuthResult> {
    return this.authenticator.review(token, audiences);
  }
}

function hasImpersonationHeader(headers: IncomingMessage['headers']): boolean {
  for (const name in headers) if (name.startsWith('impersonate-')) return true;
  return false;
}

/** The 403 Kubernetes returns (apierrors.NewForbidden with responsewriters' message). */
export function forbidden(user: UserInfo, attrs: Attributes, reason: string): StatusError {
  const why = forbiddenMessage(user, attrs, reason);
  if (!attrs.resourceRequest) return new StatusError({ code: 403, reason: 'Forbidden', message: `forbidden: ${why}`, details: {} });
  const gr = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  const message = attrs.name ? `${gr} "${attrs.name}" is forbidden: ${why}` : `${gr} is forbidden: ${why}`;
  return new StatusError({ code: 403, reason: 'Forbidden', message, details: { ...(attrs.name ? { name: attrs.name } : {}), ...(attrs.apiGroup ? { group: attrs.apiGroup } : {}), kind: attrs.resource } });
}


// POST /api/v1/namespaces/NS/serviceaccounts/NAME/token (TokenRequest), as kube-apiserver serves it:
// the spec defaulted (the API's audiences, one hour), checked (at least ten minutes; a bound object
// of kind Pod, Secret or Node that exists with the uid given, a Pod running as this account), and
// the answer carrying a signed token and its expiry. `kubectl create token NAME` and the agent's
// projected token volumes both come here.

import { R, type ResourceInfo } from '../../api/resources.js';
import { errors, isStatusError } from '../../api/errors.js';
import type { KObject, Pod, StatusCause, TokenRequest } from '../../api/types.js';
import { rfc3339 } from '../../util/time.js';
import type { BoundObject, KubernetesClaims, ServiceAccountTokens } from './tokens.js';

export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

export interface TokenRequestDeps {
  tokens: ServiceAccountTokens;
  get(res: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject>;
  now?: () => number;
}

function invalid(causes: StatusCause[], name: string) {
  return errors.invalid('TokenRequest', name, causes, 'authentication.k8s.io');
}

/** Validates and defaults the request body; throws a 400/422 StatusError naming the field. */
export function checkTokenRequest(body: unknown, name: string, apiAudiences: string[]): TokenRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the body must be a TokenRequest object');
  const tr = body as TokenRequest;
  if (tr.kind !== undefined && tr.kind !== 'TokenRequest') throw errors.badRequest(`the kind of the body must be TokenRequest, got ${JSON.stringify(tr.kind)}`);
  if (tr.apiVersion !== undefined && tr.apiVersion !== 'authentication.k8s.io/v1') throw errors.badRequest(`the apiVersion of a TokenRequest must be authentication.k8s.io/v1, got ${JSON.stringify(tr.apiVersion)}`);
  const spec = (tr.spec ?? {}) as TokenRequest['spec'];
  if (typeof spec !== 'object' || Array.isArray(spec)) throw invalid([{ field: 'spec', reason: 'FieldValueInvalid', message: 'Invalid value: spec must be an object' }], name);
  const causes: StatusCause[] = [];
  const exp = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (!Number.isInteger(exp)) causes.push({ field: 'spec.expirationSeconds', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(exp)}: must be an integer` });
  else if (exp < MIN_EXPIRATION_SECONDS) causes.push({ field: 'spec.expirationSeconds', reason: 'FieldValueInvalid', message: `Invalid value: ${exp}: may not specify a duration less than 10 minutes` });
  else if (exp > MAX_EXPIRATION_SECONDS) causes.push({ field: 'spec.expirationSeconds', reason: 'FieldValueInvalid', message: `Invalid value: ${exp}: may not specify a duration larger than 2^32 seconds` });
  const audiences = spec.audiences?.length ? spec.audiences : apiAudiences;
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string' || a === '')) causes.push({ field: 'spec.audiences', reason: 'FieldValueInvalid', message: 'Invalid value: audiences must be non-empty strings' });
  const ref = spec.boundObjectRef ?? undefined;
  if (ref) {
    if (!['Pod', 'Secret', 'Node'].includes(ref.kind ?? '')) causes.push({ field: 'spec.boundObjectRef.kind', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(ref.kind ?? '')}: supported values: "Pod", "Secret", "Node"` });
    if ((ref.apiVersion ?? 'v1') !== 'v1') causes.push({ field: 'spec.boundObjectRef.apiVersion', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(ref.apiVersion)}: supported values: "v1"` });
    if (!ref.name) causes.push({ field: 'spec.boundObjectRef.name', reason: 'FieldValueRequired', message: 'Required value' });
  }
  if (causes.length) throw invalid(causes, name);
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { audiences, expirationSeconds: exp, boundObjectRef: ref ?? null } };
}

async function bound(deps: TokenRequestDeps, res: ResourceInfo, namespace: string | undefined, name: string, uid: string | undefined): Promise<KObject> {
  let obj: KObject;
  try {
    obj = await deps.get(res, namespace, name);
  } catch (err) {
    if (isStatusError(err, 'NotFound')) throw errors.notFound(res, name);
    throw err;
  }
  if (uid && obj.metadata.uid !== uid) {
    throw errors.conflict(res, name, `the UID in the bound object reference (${uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  return obj;
}

/** Serves one TokenRequest for the ServiceAccount `namespace/name`. */
export async function serveTokenRequest(deps: TokenRequestDeps, namespace: string, name: string, body: unknown): Promise<TokenRequest> {
  const req = checkTokenRequest(body, name, deps.tokens.apiAudiences);
  const sa = await deps.get(R.serviceaccounts, namespace, name);
  const claims: KubernetesClaims = { namespace, serviceaccount: { name, uid: sa.metadata.uid! } };
  const ref = req.spec.boundObjectRef;
  const asBound = (o: KObject): BoundObject => ({ name: o.metadata.name!, uid: o.metadata.uid! });
  if (ref?.kind === 'Pod') {
    const pod = (await bound(deps, R.pods, namespace, ref.name!, ref.uid)) as Pod;
    const podSA = pod.spec.serviceAccountName || 'default';
    if (podSA !== name) throw errors.badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
    claims.pod = asBound(pod);
    if (pod.spec.nodeName) {
      const node = await deps.get(R.nodes, undefined, pod.spec.nodeName).catch(() => undefined);
      if (node) claims.node = asBound(node);
    }
  } else if (ref?.kind === 'Secret') {
    claims.secret = asBound(await bound(deps, R.secrets, namespace, ref.name!, ref.uid));
  } else if (ref?.kind === 'Node') {
    claims.node = asBound(await bound(deps, R.nodes, undefined, ref.name!, ref.uid));
  }
  const now = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  const { token, expiresAt } = await deps.tokens.issue({ claims, audiences: req.spec.audiences!, expirationSeconds: req.spec.expirationSeconds!, now });
  return {
    ...req,
    metadata: { name, namespace, creationTimestamp: rfc3339(new Date(now * 1000)) },
    status: { token, expirationTimestamp: rfc3339(new Date(expiresAt)) },
  };
}

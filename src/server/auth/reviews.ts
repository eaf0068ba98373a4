// The review kinds, answered on POST and never stored: SelfSubjectAccessReview and
// SelfSubjectRulesReview (`kubectl auth can-i`, `--list`), SubjectAccessReview and
// LocalSubjectAccessReview (asking for someone else), TokenReview and SelfSubjectReview
// (`kubectl auth whoami`). Each answers for the user the request was authenticated (or impersonated) as.

import type express from 'express';
import type { Request, Response } from 'express';
import { errors, StatusError } from '../../api/errors.js';
import type { KObject, NonResourceAttributes, PolicyRule, ResourceAttributes, StatusCause, UserInfo } from '../../api/types.js';
import { readBody } from '../body.js';
import { PROTOBUF_MEDIA_TYPE, readProtobufBody } from '../protobuf.js';
import type { Attributes } from './attributes.js';
import type { AuthResult } from './authenticator.js';
import type { Decision } from './rbac.js';

export interface ReviewDeps {
  userOf(res: Response): UserInfo;
  authorize(user: UserInfo, attrs: Attributes): Decision;
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] };
  reviewToken(token: string, audiences?: string[]): Promise<AuthResult>;
}

type Review = KObject & { spec?: Record<string, unknown>; status?: unknown };

const AUTHZ = '/apis/authorization.k8s.io/v1';
const AUTHN = '/apis/authentication.k8s.io/v1';

async function body(req: Request, kind: string, apiVersion: string): Promise<Review> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const b = (type === PROTOBUF_MEDIA_TYPE ? await readProtobufBody(req) : await readBody(req)) as Review | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw errors.badRequest(`the body must be a ${kind} object`);
  if ((b.kind ?? kind) !== kind || (b.apiVersion ?? apiVersion) !== apiVersion) {
    throw errors.badRequest(`the API version in the data (${b.apiVersion}) does not match the expected API version (${apiVersion}) or the kind (${b.kind}) is not ${kind}`);
  }
  return b;
}

function answer(res: Response, b: Review, kind: string, apiVersion: string, status: unknown): void {
  const out = { kind, apiVersion, metadata: { ...(b.metadata ?? {}), creationTimestamp: null }, spec: b.spec ?? {}, status };
  res.status(201).type('application/json').send(JSON.stringify(out));
}

function invalid(kind: string, group: string, causes: StatusCause[]): StatusError {
  return errors.invalid(kind, '', causes, group);
}

/** spec.resourceAttributes / spec.nonResourceAttributes -> attributes; exactly one must be given. */
function attributesOf(spec: Record<string, unknown>, kind: string, namespace?: string): Attributes {
  const ra = spec.resourceAttributes as ResourceAttributes | undefined;
  const nra = spec.nonResourceAttributes as NonResourceAttributes | undefined;
  if ((ra && nra) || (!ra && !nra)) {
    throw invalid(kind, 'authorization.k8s.io', [{ field: 'spec.resourceAttributes', reason: 'FieldValueInvalid', message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
  }
  if (nra) return { resourceRequest: false, verb: nra.verb ?? '', path: nra.path ?? '' };
  const r = ra!;
  if (namespace !== undefined && (r.namespace ?? '') !== namespace) {
    throw invalid(kind, 'authorization.k8s.io', [{ field: 'spec.resourceAttributes.namespace', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(r.namespace ?? '')}: must match metadata.namespace` }]);
  }
  return { resourceRequest: true, verb: r.verb ?? '', apiGroup: r.group ?? '', apiVersion: r.version ?? '', resource: r.resource ?? '', subresource: r.subresource ?? '', name: r.name ?? '', namespace: r.namespace ?? '' };
}

function accessStatus(d: Decision) {
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) };
}

/** `extra` as JSON sends it (string lists) or as protobuf decodes it ({items: [...]}). */
function extraOf(v: unknown): Record<string, string[]> | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const list = Array.isArray(x) ? x : Array.isArray((x as { items?: unknown })?.items) ? (x as { items: unknown[] }).items : [];
    out[k] = list.filter((s): s is string => typeof s === 'string');
  }
  return out;
}

function subjectOf(spec: Record<string, unknown>, kind: string): UserInfo {
  const user = typeof spec.user === 'string' ? spec.user : '';
  const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [];
  if (!user && groups.length === 0) throw invalid(kind, 'authorization.k8s.io', [{ field: 'spec.user', reason: 'FieldValueInvalid', message: 'Invalid value: "": at least one of user or group must be specified' }]);
  const extra = extraOf(spec.extra);
  return { username: user, groups, ...(typeof spec.uid === 'string' && spec.uid ? { uid: spec.uid } : {}), ...(extra && Object.keys(extra).length ? { extra } : {}) };
}

function splitRules(rules: PolicyRule[]) {
  const resourceRules = rules
    .filter((r) => !r.nonResourceURLs?.length)
    .map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) }));
  const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs! }));
  return { resourceRules, nonResourceRules };
}

function route(app: express.Express, path: string, handler: (req: Request, res: Response) => Promise<void>): void {
  app.all(path, (req, res, next) => {
    if (req.method !== 'POST') return next(errors.methodNotAllowed(`${req.method} is not supported on ${path}: reviews are only created`));
    handler(req, res).catch(next);
  });
}

export function mountReviews(app: express.Express, d: ReviewDeps): void {
  route(app, `${AUTHZ}/selfsubjectaccessreviews`, async (req, res) => {
    const b = await body(req, 'SelfSubjectAccessReview', 'authorization.k8s.io/v1');
    answer(res, b, 'SelfSubjectAccessReview', 'authorization.k8s.io/v1', accessStatus(d.authorize(d.userOf(res), attributesOf(b.spec ?? {}, 'SelfSubjectAccessReview'))));
  });
  route(app, `${AUTHZ}/subjectaccessreviews`, async (req, res) => {
    const b = await body(req, 'SubjectAccessReview', 'authorization.k8s.io/v1');
    const spec = b.spec ?? {};
    answer(res, b, 'SubjectAccessReview', 'authorization.k8s.io/v1', accessStatus(d.authorize(subjectOf(spec, 'SubjectAccessReview'), attributesOf(spec, 'SubjectAccessReview'))));
  });
  route(app, `${AUTHZ}/namespaces/:namespace/localsubjectaccessreviews`, async (req, res) => {
    const b = await body(req, 'LocalSubjectAccessReview', 'authorization.k8s.io/v1');
    const ns = String(req.params.namespace);
    if (b.metadata?.namespace && b.metadata.namespace !== ns) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const spec = b.spec ?? {};
    answer(res, { ...b, metadata: { ...b.metadata, namespace: ns } }, 'LocalSubjectAccessReview', 'authorization.k8s.io/v1', accessStatus(d.authorize(subjectOf(spec, 'LocalSubjectAccessReview'), attributesOf(spec, 'LocalSubjectAccessReview', ns))));
  });
  route(app, `${AUTHZ}/selfsubjectrulesreviews`, async (req, res) => {
    const b = await body(req, 'SelfSubjectRulesReview', 'authorization.k8s.io/v1');
    const ns = typeof b.spec?.namespace === 'string' ? b.spec.namespace : '';
    const { rules, errors: errs } = d.rulesFor(d.userOf(res), ns);
    answer(res, b, 'SelfSubjectRulesReview', 'authorization.k8s.io/v1', { ...splitRules(rules), incomplete: errs.length > 0, ...(errs.length ? { evaluationError: errs.join(', ') } : {}) });
  });
  route(app, `${AUTHN}/tokenreviews`, async (req, res) => {
    const b = await body(req, 'TokenReview', 'authentication.k8s.io/v1');
    const token = typeof b.spec?.token === 'string' ? b.spec.token : '';
    if (!token) throw invalid('TokenReview', 'authentication.k8s.io', [{ field: 'spec.token', reason: 'FieldValueRequired', message: 'Required value: token must not be empty' }]);
    const audiences = Array.isArray(b.spec?.audiences) && b.spec.audiences.length ? (b.spec.audiences as string[]) : undefined;
    const r = await d.reviewToken(token, audiences);
    // The token is a credential: it is not echoed back.
    const spec = { ...(audiences ? { audiences } : {}) };
    answer(res, { ...b, spec }, 'TokenReview', 'authentication.k8s.io/v1', r.ok ? { authenticated: true, user: r.user, ...(r.audiences ? { audiences: r.audiences } : {}) } : { user: {}, error: r.error });
  });
  route(app, `${AUTHN}/selfsubjectreviews`, async (req, res) => {
    const b = await body(req, 'SelfSubjectReview', 'authentication.k8s.io/v1');
    answer(res, b, 'SelfSubjectReview', 'authentication.k8s.io/v1', { userInfo: d.userOf(res) });
  });
}

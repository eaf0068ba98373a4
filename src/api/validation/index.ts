// The registry's entry points: applyDefaults, then (on update) prepareUpdate, then validateObject;
// validationError turns the causes into the 422 Status kubectl prints.

import { errors, type StatusError } from '../errors.js';
import type { ResourceInfo } from '../resources.js';
import type { KObject, StatusCause } from '../types.js';
import { validateDeployment, validateReplicaSet } from './apps.js';
import { validateEvent, validateNamespace, validateNode } from './cluster.js';
import { validateConfigMap, validateSecret } from './config.js';
import { type Causes, forbidden, isObj, listAt, type Obj, objAt } from './field.js';
import { validateIngress, validateIngressClass } from './ingress.js';
import { validateObjectMeta } from './meta.js';
import { validatePodSpec } from './pod.js';
import { checkSchema } from './schema-check.js';
import { validateEndpoints, validateEndpointSlice, validateServiceSpec } from './service.js';
import { validateUpdate } from './update.js';
import { validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './rbac.js';
import { validateControllerRevision, validateDaemonSet, validateStatefulSet } from './workloads.js';
import { validateCronJob, validateJob } from './batch.js';
import { validatePersistentVolume, validatePersistentVolumeClaim, validateStorageClass } from './storage.js';
import { validateCRD } from './crd.js';
import { validateHPA, validateNetworkPolicy, validatePDB, validatePriorityClass } from './policy.js';

export { applyDefaults, defaultPullPolicy, dropNulls, prepareUpdate } from './defaults.js';
export { semanticEqual } from './update.js';
export { validatePodSpec, validatePodTemplateSpec } from './pod.js';
export { validateLabelSelector, validateObjectMeta } from './meta.js';

export interface ValidationResult {
  causes: StatusCause[];
  /** Paths of fields the kind's schema does not know (`spec.replicass`), for `fieldValidation`. */
  unknownFields: string[];
}

type KindRule = (obj: Obj, old: Obj | undefined) => Causes;

const KIND_RULES: Record<string, KindRule> = {
  Pod: (o, old) => {
    const out = validatePodSpec(o.spec, 'spec');
    if (!old && listAt(objAt(o.spec).ephemeralContainers).length > 0) out.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
    return out;
  },
  Service: (o) => validateServiceSpec(o.spec),
  Endpoints: (o) => validateEndpoints(o),
  EndpointSlice: (o) => validateEndpointSlice(o),
  Deployment: (o) => validateDeployment(o),
  ReplicaSet: (o) => validateReplicaSet(o),
  ConfigMap: (o) => validateConfigMap(o),
  Secret: (o) => validateSecret(o),
  Ingress: (o) => validateIngress(o),
  IngressClass: (o) => validateIngressClass(o),
  Node: (o) => validateNode(o),
  Namespace: (o) => validateNamespace(o),
  Event: (o) => validateEvent(o),
  Role: (o) => validateRole(o),
  ClusterRole: (o) => validateClusterRole(o),
  RoleBinding: (o, old) => validateRoleBinding(o, old),
  ClusterRoleBinding: (o, old) => validateClusterRoleBinding(o, old),
  StatefulSet: (o) => validateStatefulSet(o),
  DaemonSet: (o) => validateDaemonSet(o),
  ControllerRevision: (o) => validateControllerRevision(o),
  Job: (o) => validateJob(o),
  CronJob: (o) => validateCronJob(o),
  PersistentVolumeClaim: (o) => validatePersistentVolumeClaim(o),
  PersistentVolume: (o) => validatePersistentVolume(o),
  StorageClass: (o) => validateStorageClass(o),
  CustomResourceDefinition: (o, old) => validateCRD(o, old),
  HorizontalPodAutoscaler: (o) => validateHPA(o),
  PodDisruptionBudget: (o) => validatePDB(o),
  PriorityClass: (o, old) => validatePriorityClass(o, old),
  NetworkPolicy: (o) => validateNetworkPolicy(o),
};

function hasNull(v: unknown): boolean {
  if (v === null) return true;
  if (Array.isArray(v)) return v.some(hasNull);
  if (isObj(v)) return Object.values(v).some(hasNull);
  return false;
}

function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  return v;
}

function dedupe(causes: Causes): Causes {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const k = `${c.field}\u0000${c.reason}\u0000${c.reason === 'FieldValueRequired' || c.reason === 'FieldValueNotSupported' ? '' : c.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Validates `obj` (already defaulted) as a `res`: the structural schema (types, required fields,
 * enums, unknown fields) and Kubernetes' semantic rules; with `old`, also what may not change.
 * Nothing here throws for invalid input: the caller decides (422 for causes; for unknown fields,
 * per `fieldValidation`: Strict fails, Warn warns, Ignore drops).
 */
export function validateObject(res: ResourceInfo, obj: KObject, old?: KObject): ValidationResult {
  const o = (hasNull(obj) ? withoutNulls(obj) : obj) as Obj;
  const schema = checkSchema(res, o);
  const semantic: Causes = [];
  if (!schema.typeErrors) {
    semantic.push(...validateObjectMeta(res, o.metadata));
    const rule = KIND_RULES[res.kind];
    const prev = old ? ((hasNull(old) ? withoutNulls(old) : old) as Obj) : undefined;
    if (rule) semantic.push(...rule(o, prev));
    if (prev) semantic.push(...validateUpdate(res, o, prev));
  }
  return { causes: dedupe([...semantic, ...schema.causes]), unknownFields: schema.unknownFields };
}

/**
 * Only the type errors of `obj` (wrong JSON types, integers out of their Go width), checked before
 * defaulting as Kubernetes decodes into typed structs first: defaulting and strategies then only
 * ever see the shapes they expect (`spec.containers` as an object is a 422, not "is not iterable").
 */
export function typeCauses(res: ResourceInfo, obj: KObject): StatusCause[] {
  const o = hasNull(obj) ? withoutNulls(obj) : obj;
  return checkSchema(res, o).typeCauses;
}

/** The 422 Invalid StatusError for `causes`, named as Kubernetes names it (`Deployment.apps "web" is invalid: ...`). */
export function validationError(res: ResourceInfo, obj: KObject, causes: StatusCause[]): StatusError {
  const name = obj.metadata?.name || obj.metadata?.generateName || '';
  return errors.invalid(res.kind, name, causes, res.group || undefined);
}

/**
 * `fieldValidation=Strict` with unknown fields: the 400 a real API server returns, which kubectl
 * prints as `... cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass"`.
 */
export function unknownFieldsError(res: ResourceInfo, fields: string[]): StatusError {
  const list = fields.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ');
  return errors.badRequest(`${res.kind} in version ${JSON.stringify(res.version)} cannot be handled as a ${res.kind}: strict decoding error: ${list}`);
}

/** `fieldValidation=Warn`: one `Warning:` header text per unknown field, as Kubernetes sends them. */
export function unknownFieldWarnings(fields: string[]): string[] {
  return fields.map((f) => `unknown field ${JSON.stringify(f)}`);
}

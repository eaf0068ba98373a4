// OpenAPI v3 documents (/openapi/v3 and one document per group-version), built from the component
// schemas in src/api/schema. kubectl reads them for three things:
//  - validation: a PATCH operation that carries the kind's x-kubernetes-group-version-kind and a
//    `fieldValidation` query parameter makes kubectl send `fieldValidation=Strict` and leave checking to us
//    (without any OpenAPI, `kubectl apply` fails with "failed to download openapi");
//  - client-side apply: kubectl computes its strategic merge patch from the x-kubernetes-patch-*
//    extensions of these schemas, so they are overlaid here from the very table the server applies
//    patches with (src/api/patch/strategy.ts): kubectl's patch and our merge cannot disagree;
//  - `kubectl explain`.
// /openapi/v2 (Swagger 2.0, JSON or protobuf) is built from the same schemas in openapi-v2.ts.

import crypto from 'node:crypto';
import type express from 'express';
import type { ResourceInfo } from '../api/resources.js';
import type { ResourceCatalog } from '../api/catalog.js';
import { hasSchema, REF_PREFIX, schemaClosure, schemasForGroupVersion, schemaName, type Schema } from '../api/schema/index.js';
import { customSchemaName } from '../api/crd/openapi.js';
import { builtinCatalog } from './paths.js';
import { schemaFor as strategyFor, type FieldStrategy, type SchemaNode } from '../api/patch/strategy.js';
import { KUBE_VERSION } from './discovery.js';
import { mountOpenAPIV2 } from './openapi-v2.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

/** `api/v1` for the core group, `apis/apps/v1` otherwise: the keys of the /openapi/v3 index. */
export function openapiPath(gv: { group: string; version: string }): string {
  return gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
}

export interface RenderedDocument {
  /** The document as JSON text, rendered once. */
  body: string;
  /** Content hash, part of the index's serverRelativeURL so clients can cache by URL. */
  hash: string;
}

/** Component schemas of resources served at run time (a CRD version's), by resource object. */
const customComponents = new WeakMap<ResourceInfo, Record<string, Schema>>();

/** Publishes a custom resource's schema (and its List's) in its group-version's document. */
export function attachOpenAPI(res: ResourceInfo, components: Record<string, Schema>): void {
  customComponents.set(res, components);
}

/** Resources of a group-version that have a schema to publish (the metrics API has none). */
function documented(catalog: ResourceCatalog, apiVersion: string): ResourceInfo[] {
  return catalog.all().filter((r) => r.apiVersion === apiVersion && (customComponents.has(r) || (!r.crd && hasSchema(r))));
}

interface CachedDocument extends RenderedDocument {
  /** The resources it was rendered from: a document is rendered again only when they change. */
  from: ResourceInfo[];
}

const rendered = new WeakMap<ResourceCatalog, Map<string, CachedDocument>>();

function renderGroupVersion(catalog: ResourceCatalog, gv: { group: string; version: string; apiVersion: string }): RenderedDocument | undefined {
  let docs = rendered.get(catalog);
  if (!docs) rendered.set(catalog, (docs = new Map()));
  const path = openapiPath(gv);
  const from = documented(catalog, gv.apiVersion);
  const have = docs.get(path);
  if (have && have.from.length === from.length && have.from.every((r, i) => r === from[i])) return have;
  if (from.length === 0) {
    docs.delete(path);
    return undefined;
  }
  const body = JSON.stringify(groupVersionDocument(gv.apiVersion, catalog));
  const hash = crypto.createHash('sha512').update(body).digest('hex').toUpperCase();
  const doc = { body, hash, from };
  docs.set(path, doc);
  return doc;
}

function renderAll(catalog: ResourceCatalog): Map<string, RenderedDocument> {
  const out = new Map<string, RenderedDocument>();
  for (const gv of catalog.groupVersions()) {
    const doc = renderGroupVersion(catalog, gv);
    if (doc) out.set(openapiPath(gv), doc);
  }
  return out;
}

/** The rendered document of `api/v1`, `apis/apps/v1`, ...; undefined for a group-version we do not serve. */
export function openapiDocument(path: string, catalog: ResourceCatalog = builtinCatalog()): RenderedDocument | undefined {
  const gv = catalog.groupVersions().find((g) => openapiPath(g) === path);
  return gv ? renderGroupVersion(catalog, gv) : undefined;
}

/** The /openapi/v3 discovery index. */
export function openapiIndex(catalog: ResourceCatalog = builtinCatalog()): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [path, doc] of renderAll(catalog)) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
  return { paths };
}

export function mountOpenAPI(app: express.Express, catalog: ResourceCatalog = builtinCatalog()): void {
  mountOpenAPIV2(
    app,
    (apiVersion) => (documented(catalog, apiVersion).length ? (groupVersionDocument(apiVersion, catalog).components as { schemas: Record<string, Schema> }).schemas : {}),
    catalog,
  );
  app.get(['/openapi/v3', '/openapi/v3/'], (_req, res) => {
    res.type('application/json').send(JSON.stringify(openapiIndex(catalog)));
  });
  app.get(/^\/openapi\/v3\/(.+)$/, (req, res, next) => {
    const path = (req.params as Record<string, string>)[0].replace(/\/$/, '');
    const doc = openapiDocument(path, catalog);
    if (!doc) return next();
    // A URL with the current hash never changes (as the API server marks it); any other must be revalidated.
    res.setHeader('Cache-Control', req.query.hash === doc.hash ? 'public, immutable' : 'no-cache, private');
    res.setHeader('Etag', `"${doc.hash}"`);
    res.type('application/json').send(doc.body);
  });
}

// ---------------------------------------------------------------- documents

/** The whole OpenAPI v3 document of one group-version (`v1`, `apps/v1`, ...). */
export function groupVersionDocument(apiVersion: string, catalog: ResourceCatalog = builtinCatalog()): Record<string, unknown> {
  const resources = documented(catalog, apiVersion);
  if (resources.length === 0) throw new Error(`no resources in ${apiVersion}`);
  const builtin = resources.filter((r) => !customComponents.has(r));
  const custom = resources.filter((r) => customComponents.has(r));
  const schemas = structuredClone(builtin.length ? schemasForGroupVersion(apiVersion) : schemaClosure([`${META}ObjectMeta`])) as Record<string, Schema>;
  for (const r of builtin) overlayPatchMetadata(schemas, r);
  for (const r of custom) Object.assign(schemas, structuredClone(customComponents.get(r)));
  Object.assign(schemas, metaSupportSchemas(), listSchemas(builtin));
  if (resources.some((r) => r.subresources.includes('scale'))) Object.assign(schemas, scaleSchemas());

  const paths: Record<string, unknown> = {};
  for (const r of resources) Object.assign(paths, resourcePaths(r));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
}

// ---------------------------------------------------------------- patch metadata overlay

/** Paths of the strategy table that have no matching schema property (reported by tests, not fatal). */
export const overlayMisses: string[] = [];

function componentOf(schemas: Record<string, Schema>, s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 4; i++) {
    if (cur.type === 'array' && cur.items) {
      cur = cur.items as Schema;
      continue;
    }
    const allOf = cur.allOf as Schema[] | undefined;
    const ref = (cur.$ref as string | undefined) ?? (allOf?.length === 1 ? (allOf[0].$ref as string | undefined) : undefined);
    if (ref?.startsWith(REF_PREFIX)) {
      cur = schemas[ref.slice(REF_PREFIX.length)];
      continue;
    }
    return cur;
  }
  return cur;
}

function setPatchExtensions(prop: Schema, f: FieldStrategy): void {
  delete prop['x-kubernetes-patch-strategy'];
  delete prop['x-kubernetes-patch-merge-key'];
  if (f.strategy === 'replace') return;
  if (f.strategy === 'retainKeys') {
    prop['x-kubernetes-patch-strategy'] = 'retainKeys';
    return;
  }
  prop['x-kubernetes-patch-strategy'] = f.retainKeys ? 'merge,retainKeys' : 'merge';
  if (f.key) prop['x-kubernetes-patch-merge-key'] = f.key;
}

function overlayNode(schemas: Record<string, Schema>, container: Schema | undefined, node: SchemaNode, path: string): void {
  const target = componentOf(schemas, container);
  const props = target?.properties as Record<string, Schema> | undefined;
  for (const [field, child] of node.children) {
    const prop = props?.[field];
    if (!prop) {
      if (!overlayMisses.includes(`${path}.${field}`)) overlayMisses.push(`${path}.${field}`);
      continue;
    }
    if (child.field) setPatchExtensions(prop, child.field);
    if (child.children.size) overlayNode(schemas, prop, child, `${path}.${field}`);
  }
}

/** Makes the schema's x-kubernetes-patch-* extensions say what the server's strategic merge does. */
export function overlayPatchMetadata(schemas: Record<string, Schema>, r: ResourceInfo): void {
  const rootName = schemaName(r);
  overlayNode(schemas, schemas[rootName], strategyFor(r), r.kind);
}

// ---------------------------------------------------------------- support schemas

function gvkOf(r: { group: string; version: string; kind: string }) {
  return { group: r.group, version: r.version, kind: r.kind };
}

function metaSupportSchemas(): Record<string, Schema> {
  const str = (description: string) => ({ type: 'string', description });
  return {
    [`${META}Patch`]: { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
    [`${META}ListMeta`]: {
      type: 'object',
      description: 'ListMeta describes metadata that synthetic resources must have, including lists.',
      properties: { resourceVersion: str('The version of the list, for watches from it.'), continue: str('Set when more items are available.') },
    },
    [`${META}Status`]: {
      type: 'object',
      description: 'Status is a return value for calls that do not return other objects.',
      properties: {
        apiVersion: str('APIVersion of this representation.'),
        kind: str('Kind of this representation.'),
        status: str('"Success" or "Failure".'),
        message: str('A human-readable description of the status of this operation.'),
        reason: str('A machine-readable description of why this operation is in the "Failure" status.'),
        code: { type: 'integer', format: 'int32', description: 'Suggested HTTP return code for this status.' },
        details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Extended data associated with the reason.' },
      },
      'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Status' }],
    },
    [`${META}DeleteOptions`]: {
      type: 'object',
      description: 'DeleteOptions may be provided when deleting an API object.',
      properties: {
        gracePeriodSeconds: { type: 'integer', format: 'int64', description: 'The duration in seconds before the object should be deleted.' },
        propagationPolicy: str('Whether and how garbage collection will be performed: Orphan, Background or Foreground.'),
        preconditions: { type: 'object', properties: { uid: str('Target UID.'), resourceVersion: str('Target ResourceVersion.') } },
        dryRun: { type: 'array', items: { type: 'string' }, description: 'All: process the request without persisting it.' },
      },
    },
  };
}

function listSchemas(resources: ResourceInfo[]): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const r of resources) {
    const name = schemaName(r);
    out[`${name}List`] = {
      type: 'object',
      description: `${r.listKind} is a list of ${r.kind} objects.`,
      required: ['items'],
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { allOf: [{ $ref: `${REF_PREFIX}${META}ListMeta` }], description: "Standard list metadata." },
        items: { type: 'array', items: { $ref: REF_PREFIX + name }, description: `List of ${r.plural}.` },
      },
      'x-kubernetes-group-version-kind': [{ ...gvkOf(r), kind: r.listKind }],
    };
  }
  return out;
}

function scaleSchemas(): Record<string, Schema> {
  const p = 'io.k8s.api.autoscaling.v1.';
  return {
    [`${p}Scale`]: {
      type: 'object',
      description: 'Scale represents a scaling request for a resource.',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { allOf: [{ $ref: `${REF_PREFIX}${META}ObjectMeta` }], description: "Standard object metadata." },
        spec: { allOf: [{ $ref: `${REF_PREFIX}${p}ScaleSpec` }], description: 'Desired behavior of the scale.' },
        status: { allOf: [{ $ref: `${REF_PREFIX}${p}ScaleStatus` }], description: 'Current status of the scale; read-only.' },
      },
      'x-kubernetes-group-version-kind': [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }],
    },
    [`${p}ScaleSpec`]: { type: 'object', properties: { replicas: { type: 'integer', format: 'int32', description: 'Desired number of instances.' } } },
    [`${p}ScaleStatus`]: {
      type: 'object',
      required: ['replicas'],
      properties: {
        replicas: { type: 'integer', format: 'int32', description: 'Actual number of observed instances.' },
        selector: { type: 'string', description: 'Label query over pods, in the string form of a label selector.' },
      },
    },
  };
}

// ---------------------------------------------------------------- paths

function queryParam(name: string, description: string, type: 'string' | 'boolean' | 'integer' = 'string'): Schema {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const P = {
  name: (r: ResourceInfo): Schema => ({ name: 'name', in: 'path', description: `name of the ${r.kind}`, required: true, schema: { type: 'string', uniqueItems: true } }),
  namespace: { name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', required: true, schema: { type: 'string', uniqueItems: true } },
  pretty: queryParam('pretty', "If 'true', then the output is pretty printed."),
  dryRun: queryParam('dryRun', 'When present, indicates that modifications should not be persisted. The only valid value is All.'),
  fieldManager: queryParam('fieldManager', 'A name associated with the actor or entity that is making these changes.'),
  fieldValidation: queryParam(
    'fieldValidation',
    'How the server treats unknown or duplicate fields in the request: Ignore, Warn (the default) or Strict.',
  ),
  force: queryParam('force', 'Force is going to "force" Apply requests; it must be unset for non-apply patch requests.', 'boolean'),
  labelSelector: queryParam('labelSelector', 'A selector to restrict the list of returned objects by their labels.'),
  fieldSelector: queryParam('fieldSelector', 'A selector to restrict the list of returned objects by their fields.'),
  resourceVersion: queryParam('resourceVersion', 'Where a watch starts from.'),
  timeoutSeconds: queryParam('timeoutSeconds', 'Timeout for the list/watch call.', 'integer'),
  watch: queryParam('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', 'boolean'),
  gracePeriodSeconds: queryParam('gracePeriodSeconds', 'The duration in seconds before the object should be deleted.', 'integer'),
  propagationPolicy: queryParam('propagationPolicy', "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'."),
};

function content(schemaRef: string, types = ['application/json', 'application/yaml']): Schema {
  return Object.fromEntries(types.map((t) => [t, { schema: { $ref: REF_PREFIX + schemaRef } }]));
}

function response(code: string, schemaRef: string): Record<string, Schema> {
  return { [code]: { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', content: content(schemaRef) } };
}

function opId(verb: string, r: ResourceInfo, namespaced: boolean, suffix = ''): string {
  const group = r.group ? r.group.split('.')[0].replace(/^./, (c) => c.toUpperCase()) : 'Core';
  const v = r.version.replace(/^./, (c) => c.toUpperCase());
  return `${verb}${group}${v}${namespaced ? 'Namespaced' : ''}${r.kind}${suffix}`;
}

function tag(r: ResourceInfo): string[] {
  return [r.group ? `${r.group.split('.')[0]}_${r.version}` : `core_${r.version}`];
}

/** The operations Kubernetes publishes for a resource and its status/scale subresources. */
function resourcePaths(r: ResourceInfo): Record<string, unknown> {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const prefix = r.namespaced ? `${base}/namespaces/{namespace}` : base;
  const ns = r.namespaced ? [P.namespace] : [];
  const gvk = gvkOf(r);
  const kind = r.crd ? customSchemaName(r) : schemaName(r);
  const action = (a: string, k = gvk) => ({ 'x-kubernetes-action': a, 'x-kubernetes-group-version-kind': k });
  const writeParams = [P.dryRun, P.fieldManager, P.fieldValidation];
  const patchOp = (suffix: string, k: typeof gvk, ref: string) => ({
    tags: tag(r),
    description: `partially update the specified ${r.kind}${suffix ? ` ${suffix.toLowerCase()}` : ''}`,
    operationId: opId('patch', r, r.namespaced, suffix),
    parameters: [...writeParams, P.force],
    requestBody: { content: content(`${META}Patch`, PATCH_TYPES), required: true },
    responses: { ...response('200', ref), ...response('201', ref) },
    ...action('patch', k),
  });
  const putOp = (suffix: string, k: typeof gvk, ref: string) => ({
    tags: tag(r),
    description: `replace the specified ${r.kind}${suffix ? ` ${suffix.toLowerCase()}` : ''}`,
    operationId: opId('replace', r, r.namespaced, suffix),
    parameters: writeParams,
    requestBody: { content: content(ref, ['*/*']), required: true },
    responses: { ...response('200', ref), ...response('201', ref) },
    ...action('put', k),
  });
  const getOp = (suffix: string, k: typeof gvk, ref: string) => ({
    tags: tag(r),
    description: `read the specified ${r.kind}${suffix ? ` ${suffix.toLowerCase()}` : ''}`,
    operationId: opId('read', r, r.namespaced, suffix),
    responses: response('200', ref),
    ...action('get', k),
  });

  const out: Record<string, unknown> = {};
  out[`${prefix}/${r.plural}`] = {
    get: {
      tags: tag(r),
      description: `list or watch objects of kind ${r.kind}`,
      operationId: opId('list', r, r.namespaced),
      parameters: [P.fieldSelector, P.labelSelector, P.resourceVersion, P.timeoutSeconds, P.watch],
      responses: response('200', `${kind}List`),
      ...action('list'),
    },
    post: {
      tags: tag(r),
      description: `create a ${r.kind}`,
      operationId: opId('create', r, r.namespaced),
      parameters: writeParams,
      requestBody: { content: content(kind, ['*/*']), required: true },
      responses: { ...response('200', kind), ...response('201', kind), ...response('202', kind) },
      ...action('post'),
    },
    ...(r.verbs.includes('deletecollection')
      ? {
          delete: {
            tags: tag(r),
            description: `delete collection of ${r.kind}`,
            operationId: opId('deleteCollection', r, r.namespaced),
            parameters: [P.fieldSelector, P.labelSelector, P.gracePeriodSeconds, P.propagationPolicy, P.dryRun],
            responses: response('200', `${META}Status`),
            ...action('deletecollection'),
          },
        }
      : {}),
    parameters: [...ns, P.pretty],
  };
  out[`${prefix}/${r.plural}/{name}`] = {
    get: getOp('', gvk, kind),
    put: putOp('', gvk, kind),
    patch: patchOp('', gvk, kind),
    delete: {
      tags: tag(r),
      description: `delete a ${r.kind}`,
      operationId: opId('delete', r, r.namespaced),
      parameters: [P.dryRun, P.gracePeriodSeconds, P.propagationPolicy],
      requestBody: { content: content(`${META}DeleteOptions`, ['*/*']) },
      responses: { ...response('200', `${META}Status`), ...response('202', `${META}Status`) },
      ...action('delete'),
    },
    parameters: [P.name(r), ...ns, P.pretty],
  };
  if (r.namespaced) {
    out[`${base}/${r.plural}`] = {
      get: {
        tags: tag(r),
        description: `list or watch objects of kind ${r.kind} in all namespaces`,
        operationId: opId('list', r, false, 'ForAllNamespaces'),
        parameters: [P.fieldSelector, P.labelSelector, P.resourceVersion, P.timeoutSeconds, P.watch],
        responses: response('200', `${kind}List`),
        ...action('list'),
      },
      parameters: [P.pretty],
    };
  }
  if (r.subresources.includes('status')) {
    out[`${prefix}/${r.plural}/{name}/status`] = {
      get: getOp('Status', gvk, kind),
      put: putOp('Status', gvk, kind),
      patch: patchOp('Status', gvk, kind),
      parameters: [P.name(r), ...ns, P.pretty],
    };
  }
  if (r.subresources.includes('scale')) {
    const scale = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
    const ref = 'io.k8s.api.autoscaling.v1.Scale';
    out[`${prefix}/${r.plural}/{name}/scale`] = {
      get: getOp('Scale', scale, ref),
      put: putOp('Scale', scale, ref),
      patch: patchOp('Scale', scale, ref),
      parameters: [P.name(r), ...ns, P.pretty],
    };
  }
  return out;
}

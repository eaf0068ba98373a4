import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as k8s from '@kubernetes/client-node';
import test from 'ava';
import { RESOURCES, R } from '../../../../src/api/resources.js';
import { closeSchema, resolveSchema, validatorFor } from '../../../../src/api/schema/compile.js';
import { allSchemas, REF_PREFIX, schemaClosure, schemaFor, schemaName, schemasForGroupVersion, type Schema } from '../../../../src/api/schema/index.js';

const require = createRequire(import.meta.url);

test('every served kind has a root schema named as in Kubernetes, with its GVK and descriptions', (t) => {
  const expected: Record<string, string> = {
    Pod: 'io.k8s.api.core.v1.Pod',
    Deployment: 'io.k8s.api.apps.v1.Deployment',
    Ingress: 'io.k8s.api.networking.v1.Ingress',
    EndpointSlice: 'io.k8s.api.discovery.v1.EndpointSlice',
    Event: 'io.k8s.api.core.v1.Event',
  };
  for (const res of RESOURCES) {
    const name = schemaName(res);
    if (expected[res.kind]) t.is(name, expected[res.kind]);
    const s = schemaFor(res);
    t.is(s, allSchemas()[name]);
    t.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: res.group, version: res.version, kind: res.kind }], res.kind);
    t.is(typeof s.description, 'string', res.kind);
    const props = s.properties as Record<string, Schema>;
    for (const f of ['apiVersion', 'kind', 'metadata']) t.truthy(props[f], `${res.kind}.${f}`);
    for (const [f, p] of Object.entries(props)) t.is(typeof p.description, 'string', `${res.kind}.${f} has a description`);
    t.deepEqual(resolveSchema(props.metadata), allSchemas()['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  }
});

test('every $ref resolves, and group-version documents hold exactly their closure', (t) => {
  const all = allSchemas();
  const refs = new Set<string>();
  JSON.stringify(all, (k, v) => {
    if (k === '$ref') refs.add(v as string);
    return v;
  });
  for (const r of refs) {
    t.true(r.startsWith(REF_PREFIX), r);
    t.truthy(all[r.slice(REF_PREFIX.length)], r);
  }
  const apps = schemasForGroupVersion('apps/v1');
  t.truthy(apps['io.k8s.api.apps.v1.Deployment']);
  t.truthy(apps['io.k8s.api.apps.v1.ReplicaSet']);
  t.truthy(apps['io.k8s.api.core.v1.PodSpec']);
  t.truthy(apps['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  t.falsy(apps['io.k8s.api.core.v1.Service']);
  t.deepEqual(Object.keys(apps), Object.keys(apps).sort());
  const core = schemasForGroupVersion('v1');
  t.truthy(core['io.k8s.api.core.v1.Service']);
  t.falsy(core['io.k8s.api.apps.v1.Deployment']);
  t.deepEqual(Object.keys(schemaClosure(['io.k8s.api.core.v1.HTTPHeader'])), ['io.k8s.api.core.v1.HTTPHeader']);
  t.throws(() => schemaClosure(['io.k8s.api.core.v1.Nope']));
});

test('schemas are shared and frozen', (t) => {
  t.is(allSchemas(), allSchemas());
  t.true(Object.isFrozen(schemaFor(R.pods)));
  t.throws(() => {
    (schemaFor(R.pods) as Record<string, unknown>).description = 'x';
  });
});

function prop(schemaRef: string, ...path: string[]): Schema {
  let s = resolveSchema(allSchemas()[schemaRef]) as Schema;
  for (const p of path) {
    if (p === '[]') s = resolveSchema(s.items as Schema) as Schema;
    else s = resolveSchema((s.properties as Record<string, Schema>)[p]) as Schema;
  }
  return s;
}

test("list fields carry Kubernetes' patch and list-type extensions", (t) => {
  const containers = resolveSchema((prop('io.k8s.api.core.v1.PodSpec').properties as Record<string, Schema>).containers)!;
  t.is(containers['x-kubernetes-patch-merge-key'], 'name');
  t.is(containers['x-kubernetes-patch-strategy'], 'merge');
  t.is(containers['x-kubernetes-list-type'], 'map');
  t.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
  const volumes = prop('io.k8s.api.core.v1.PodSpec', 'volumes');
  t.is(volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  const ports = prop('io.k8s.api.core.v1.Container', 'ports');
  t.is(ports['x-kubernetes-patch-merge-key'], 'containerPort');
  t.deepEqual(ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  t.is(prop('io.k8s.api.core.v1.Container', 'volumeMounts')['x-kubernetes-patch-merge-key'], 'mountPath');
  t.is(prop('io.k8s.api.core.v1.Container', 'env')['x-kubernetes-patch-merge-key'], 'name');
  t.is(prop('io.k8s.api.core.v1.Container', 'envFrom')['x-kubernetes-list-type'], 'atomic');
  t.is(prop('io.k8s.api.core.v1.PodSpec', 'tolerations')['x-kubernetes-list-type'], 'atomic');
  const svcPorts = prop('io.k8s.api.core.v1.ServiceSpec', 'ports');
  t.is(svcPorts['x-kubernetes-patch-merge-key'], 'port');
  t.deepEqual(svcPorts['x-kubernetes-list-map-keys'], ['port', 'protocol']);
  const fin = prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers');
  t.is(fin['x-kubernetes-list-type'], 'set');
  t.is(fin['x-kubernetes-patch-strategy'], 'merge');
  t.is(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences')['x-kubernetes-patch-merge-key'], 'uid');
  t.is(prop('io.k8s.api.core.v1.PodStatus', 'conditions')['x-kubernetes-patch-merge-key'], 'type');
  t.is(prop('io.k8s.api.networking.v1.IngressSpec', 'rules')['x-kubernetes-list-type'], 'atomic');
  t.is(prop('io.k8s.api.core.v1.Endpoints', 'subsets')['x-kubernetes-list-type'], 'atomic');
  t.is(prop('io.k8s.api.core.v1.ServicePort', 'targetPort')['x-kubernetes-int-or-string'], true);
  t.is(prop('io.k8s.api.apps.v1.RollingUpdateDeployment', 'maxSurge')['x-kubernetes-int-or-string'], true);
});

test('closeSchema closes typed objects only', (t) => {
  const closed = closeSchema({
    type: 'object',
    properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, m: { type: 'object', additionalProperties: { type: 'string' } } },
  }) as Schema;
  t.is(closed.additionalProperties, false);
  const props = closed.properties as Record<string, Schema>;
  t.is(props.a.additionalProperties, false);
  t.deepEqual(props.m.additionalProperties, { type: 'string' });
  const free = closeSchema({ type: 'object', properties: {}, 'x-kubernetes-preserve-unknown-fields': true }) as Schema;
  t.is(free.additionalProperties, undefined);
});

// ---- cross-check against the Kubernetes 1.34 models shipped in @kubernetes/client-node ----

const MODEL_ROOTS: [string, string][] = [
  ['V1Pod', 'io.k8s.api.core.v1.Pod'],
  ['V1Service', 'io.k8s.api.core.v1.Service'],
  ['V1Endpoints', 'io.k8s.api.core.v1.Endpoints'],
  ['V1EndpointSlice', 'io.k8s.api.discovery.v1.EndpointSlice'],
  ['V1Node', 'io.k8s.api.core.v1.Node'],
  ['V1Namespace', 'io.k8s.api.core.v1.Namespace'],
  ['CoreV1Event', 'io.k8s.api.core.v1.Event'],
  ['V1ConfigMap', 'io.k8s.api.core.v1.ConfigMap'],
  ['V1Secret', 'io.k8s.api.core.v1.Secret'],
  ['V1Deployment', 'io.k8s.api.apps.v1.Deployment'],
  ['V1ReplicaSet', 'io.k8s.api.apps.v1.ReplicaSet'],
  ['V1Ingress', 'io.k8s.api.networking.v1.Ingress'],
  ['V1IngressClass', 'io.k8s.api.networking.v1.IngressClass'],
];

interface ModelAttr {
  baseName: string;
  type: string;
}
type Model = { attributeTypeMap?: ModelAttr[] };
const models = k8s as unknown as Record<string, Model | undefined>;

/** Required fields we deliberately leave optional: agents may not know every nodeInfo field. */
const LOOSER_REQUIRED = new Set(['V1NodeSystemInfo', 'CoreV1Event']);

function modelDir(): string {
  return require.resolve('@kubernetes/client-node').replace(/dist\/index\.js$/, 'dist/gen/models/');
}

test('schemas cover exactly the fields of Kubernetes 1.34, with matching types and required fields', (t) => {
  const problems: string[] = [];
  const visited = new Set<string>();
  const dir = modelDir();

  function checkType(type: string, schema: Schema | undefined, path: string): void {
    const s = resolveSchema(schema);
    if (!s) return void problems.push(`${path}: no schema`);
    const arr = /^Array<(.+)>$/.exec(type);
    if (arr) {
      if (s.type !== 'array') problems.push(`${path}: want array`);
      else checkType(arr[1], s.items as Schema, `${path}[]`);
      return;
    }
    if (type.startsWith('{ [key: string]: ')) {
      if (s.type !== 'object' || typeof s.additionalProperties !== 'object') problems.push(`${path}: want a map`);
      return;
    }
    if (type === 'string' || type === 'Date' || type === 'V1MicroTime') {
      if (s.type !== 'string' && !s.anyOf) problems.push(`${path}: want string`);
      return;
    }
    if (type === 'number') {
      if (s.type !== 'integer' && s.type !== 'number') problems.push(`${path}: want number`);
      return;
    }
    if (type === 'boolean') {
      if (s.type !== 'boolean') problems.push(`${path}: want boolean`);
      return;
    }
    if (type === 'IntOrString') {
      if (s['x-kubernetes-int-or-string'] !== true) problems.push(`${path}: want int-or-string`);
      return;
    }
    if (type === 'any') return;
    walk(type, s, path);
  }

  function walk(model: string, s: Schema, path: string): void {
    if (visited.has(model)) return;
    visited.add(model);
    const attrs = models[model]?.attributeTypeMap;
    if (!attrs) return void problems.push(`${path}: no model ${model}`);
    if (s['x-kubernetes-preserve-unknown-fields'] === true) return;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const names = new Set(attrs.map((a) => a.baseName));
    for (const p of Object.keys(props)) if (!names.has(p)) problems.push(`${path}.${p}: not a Kubernetes field of ${model}`);
    for (const a of attrs) {
      if (!props[a.baseName]) problems.push(`${path}.${a.baseName}: missing (${a.type})`);
      else checkType(a.type, props[a.baseName], `${path}.${a.baseName}`);
    }
    const dts = readFileSync(`${dir}${model}.d.ts`, 'utf8');
    const k8sRequired = [...dts.matchAll(/^\s+'(\w+)': /gm)].map((m) => m[1]).sort();
    const ours = [...((s.required as string[] | undefined) ?? [])].sort();
    if (!LOOSER_REQUIRED.has(model) && k8sRequired.join() !== ours.join()) {
      problems.push(`${path} (${model}): required ${JSON.stringify(ours)}, Kubernetes ${JSON.stringify(k8sRequired)}`);
    }
  }

  for (const [model, name] of MODEL_ROOTS) walk(model, allSchemas()[name], name);
  t.deepEqual(problems, []);
  t.true(visited.size > 120, `walked ${visited.size} models`);
});

test('ajv compiles every kind lazily, once', (t) => {
  const start = performance.now();
  const validators = RESOURCES.map(validatorFor);
  const ms = performance.now() - start;
  t.log(`compiling all ${RESOURCES.length} kinds took ${ms.toFixed(0)} ms`);
  t.true(ms < 5000);
  RESOURCES.forEach((r, i) => t.is(validatorFor(r), validators[i]));
});

// The OpenAPI v3 documents, checked the way kubectl reads them (no server needed): the index and its
// hashes, the PATCH operations kubectl's field-validation and apply code look for, and patch metadata
// that agrees, path by path, with the strategic merge the server performs.

import test from 'ava';
import crypto from 'node:crypto';
import { groupVersions, RESOURCES } from '../../src/api/resources.js';
import { mergeKeyFor, type SchemaNode } from '../../src/api/patch/index.js';
import { schemaFor as strategyFor } from '../../src/api/patch/strategy.js';
import { schemaName } from '../../src/api/schema/index.js';
import { groupVersionDocument, openapiDocument, openapiIndex, openapiPath, overlayMisses } from '../../src/server/openapi.js';

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };

function doc(apiVersion: string): Doc {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return JSON.parse(openapiDocument(openapiPath({ group, version }))!.body);
}

test('the /openapi/v3 index names every group-version with a content hash', (t) => {
  const index = openapiIndex();
  // One document per served group-version (the list grows with every served group).
  t.deepEqual(Object.keys(index.paths).sort(), groupVersions().map((gv) => openapiPath(gv)).sort());
  t.true(['api/v1', 'apis/apps/v1', 'apis/discovery.k8s.io/v1', 'apis/networking.k8s.io/v1', 'apis/coordination.k8s.io/v1'].every((p) => p in index.paths));
  for (const [path, { serverRelativeURL }] of Object.entries(index.paths)) {
    const rendered = openapiDocument(path)!;
    t.is(serverRelativeURL, `/openapi/v3/${path}?hash=${rendered.hash}`);
    t.is(rendered.hash, crypto.createHash('sha512').update(rendered.body).digest('hex').toUpperCase());
    t.is(openapiDocument(path), rendered, 'rendered once and cached');
  }
});

test('every resource has PATCH operations kubectl accepts: GVK, fieldValidation, strategic merge', (t) => {
  for (const r of RESOURCES) {
    const d = doc(r.apiVersion);
    const patches = Object.entries(d.paths)
      .map(([p, item]) => [p, item.patch] as const)
      .filter(([, op]) => op && op['x-kubernetes-group-version-kind']?.kind === r.kind);
    t.true(patches.length >= 1, `${r.kind} has a PATCH operation`);
    // kubectl takes the first matching operation in Go map order (random): every one must qualify.
    for (const [p, op] of patches) {
      t.deepEqual(op['x-kubernetes-group-version-kind'], { group: r.group, version: r.version, kind: r.kind }, p);
      t.true(op.parameters.some((x: any) => x.name === 'fieldValidation' && x.in === 'query'), `${p} fieldValidation`);
      t.truthy(op.requestBody.content['application/strategic-merge-patch+json'], `${p} strategic merge`);
      t.truthy(op.requestBody.content['application/apply-patch+yaml'], `${p} server-side apply`);
    }
    const base = `${r.group ? `/apis/${r.group}` : '/api'}/${r.version}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    t.truthy(d.paths[base]?.post, `${base} POST`);
    t.truthy(d.paths[`${base}/{name}`]?.put, `${base}/{name} PUT`);
    t.truthy(d.paths[`${base}/{name}`]?.patch, `${base}/{name} PATCH`);
    // kubectl explain finds the kind by this extension on the component schema.
    t.deepEqual(d.components.schemas[schemaName(r)]['x-kubernetes-group-version-kind'], [{ group: r.group, version: r.version, kind: r.kind }]);
  }
});

test('every $ref of every document resolves inside that document', (t) => {
  for (const gv of groupVersions()) {
    const d = groupVersionDocument(gv.apiVersion) as unknown as Doc;
    const missing: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') {
            const name = v.replace('#/components/schemas/', '');
            if (!d.components.schemas[name]) missing.push(name);
          } else walk(v);
        }
      }
    };
    walk(d);
    t.deepEqual(missing, [], gv.apiVersion);
  }
});

/** Follows a field path through the rendered schemas the way kubectl's PatchMetaFromOpenAPIV3 does. */
function lookup(schemas: Record<string, any>, root: string, path: string[]): any {
  let cur = schemas[root];
  let prop: any;
  for (const name of path) {
    while (cur && (cur.allOf || cur.$ref || cur.items)) {
      if (cur.items) cur = cur.items;
      else if (cur.allOf) cur = cur.allOf[0];
      else cur = schemas[cur.$ref.replace('#/components/schemas/', '')];
    }
    prop = cur?.properties?.[name];
    if (!prop) return undefined;
    cur = prop;
  }
  return prop;
}

test('patch metadata in the documents says what the server strategic merge does, field by field', (t) => {
  t.deepEqual(overlayMisses, [], 'every path of the strategy table exists in the schemas');
  let checked = 0;
  for (const r of RESOURCES) {
    const d = doc(r.apiVersion);
    const walk = (node: SchemaNode, path: string[]) => {
      for (const [name, child] of node.children) {
        const p = [...path, name];
        const f = mergeKeyFor(r, p);
        if (f) {
          const prop = lookup(d.components.schemas, schemaName(r), p);
          t.truthy(prop, `${r.kind}.${p.join('.')}`);
          const want = f.strategy === 'replace' ? undefined : f.strategy === 'retainKeys' ? 'retainKeys' : f.retainKeys ? 'merge,retainKeys' : 'merge';
          t.is(prop['x-kubernetes-patch-strategy'], want, `${r.kind}.${p.join('.')} strategy`);
          t.is(prop['x-kubernetes-patch-merge-key'], f.strategy === 'merge' ? f.key : undefined, `${r.kind}.${p.join('.')} merge key`);
          checked++;
        }
        walk(child, p);
      }
    };
    walk(strategyFor(r), []);
  }
  t.true(checked > 40, `checked ${checked} fields`);
  const deploy = doc('apps/v1').components.schemas;
  t.is(lookup(deploy, 'io.k8s.api.apps.v1.Deployment', ['spec', 'strategy'])['x-kubernetes-patch-strategy'], 'retainKeys');
  t.is(lookup(deploy, 'io.k8s.api.apps.v1.Deployment', ['spec', 'template', 'spec', 'containers'])['x-kubernetes-patch-merge-key'], 'name');
  t.is(lookup(deploy, 'io.k8s.api.apps.v1.Deployment', ['spec', 'template', 'spec', 'volumes'])['x-kubernetes-patch-strategy'], 'merge,retainKeys');
});

// Is a CRD's openAPIV3Schema structural? Kubernetes' rules (apiextensions-apiserver
// pkg/apiserver/schema, "Specifying a structural schema"): a non-empty type at the root, for every
// specified object field and for every array's items (except int-or-string and preserve-unknown-fields
// nodes); nothing but value validations inside allOf/anyOf/oneOf/not; metadata restricted to name and
// generateName; none of the JSON-Schema features Kubernetes refuses (definitions, dependencies,
// patternProperties, additionalItems, $schema, id, uniqueItems). Causes name the field as Kubernetes
// does (`...openAPIV3Schema.properties[spec].type`). Pure.

import type { JSONSchemaProps, StatusCause } from '../types.js';
import { forbidden, invalid, notSupported, required } from '../validation/field.js';

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const FORBIDDEN_KEYWORDS: Record<string, string> = {
  definitions: 'definitions are not supported',
  dependencies: 'dependencies are not supported',
  patternProperties: 'patternProperties is not supported',
  additionalItems: 'additionalItems cannot be set to true since the runtime complexity becomes quadratic',
  $schema: '$schema is not supported',
  id: 'id is not supported',
  $ref: '$ref is not supported',
};
const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'] as const;

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

interface Walk {
  out: StatusCause[];
  warnings: string[];
}

/** Whether a default value fits its schema node's type and enum (a light check; ajv validates objects). */
function defaultFits(node: JSONSchemaProps, value: unknown): string | undefined {
  if (value === null) return node.nullable ? undefined : 'must not be null';
  if (node['x-kubernetes-int-or-string']) return Number.isInteger(value) || typeof value === 'string' ? undefined : 'must be of type integer or string';
  const t = node.type;
  const actual = Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  if (t && !(t === actual || (t === 'number' && actual === 'integer'))) return `must be of type ${t}`;
  if (node.enum && !node.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) return `must be one of ${node.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  if (t === 'object' && isObj(value) && node.properties) {
    for (const [k, v] of Object.entries(value)) {
      const p = node.properties[k];
      if (!p && !node['x-kubernetes-preserve-unknown-fields']) return `field ${k} is not declared in the schema (it would be pruned)`;
      const why = p && defaultFits(p, v);
      if (why) return `${k}: ${why}`;
    }
  }
  return undefined;
}

/** Value validations only: what a junctor (allOf, ...) may hold. */
function checkJunctorNode(node: unknown, path: string, w: Walk): void {
  if (!isObj(node)) return;
  const n = node as JSONSchemaProps;
  const intOrStringPattern = Array.isArray(n.anyOf) || Array.isArray(n.allOf);
  for (const f of ['description', 'default', 'additionalProperties', 'nullable'] as const) {
    if (n[f] !== undefined) w.out.push(forbidden(`${path}.${f}`, 'must be empty to be structural'));
  }
  // `type` inside a junctor is allowed only for the int-or-string pattern ({type: integer} / {type: string}).
  if (n.type !== undefined && !(n.type === 'integer' || n.type === 'string')) w.out.push(forbidden(`${path}.type`, 'must be empty to be structural'));
  for (const j of JUNCTORS) {
    const v = n[j];
    if (Array.isArray(v)) v.forEach((x, i) => checkJunctorNode(x, `${path}.${j}[${i}]`, w));
    else if (v !== undefined) checkJunctorNode(v, `${path}.${j}`, w);
  }
  if (isObj(n.properties)) for (const [k, v] of Object.entries(n.properties)) checkJunctorNode(v, `${path}.properties[${k}]`, w);
  if (isObj(n.items)) checkJunctorNode(n.items, `${path}.items`, w);
  void intOrStringPattern;
}

function checkMetadata(node: JSONSchemaProps, path: string, w: Walk): void {
  if (node.type !== undefined && node.type !== 'object') w.out.push(invalid(`${path}.type`, node.type, 'must be object'));
  const allowed = new Set(['type', 'properties']);
  for (const k of Object.keys(node)) {
    if (!allowed.has(k)) w.out.push(forbidden(path, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  for (const [k, v] of Object.entries(node.properties ?? {})) {
    if (k !== 'name' && k !== 'generateName') {
      w.out.push(forbidden(path, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
      continue;
    }
    if (isObj(v) && v.type !== undefined && v.type !== 'string') w.out.push(invalid(`${path}.properties[${k}].type`, v.type, 'must be string'));
    if (isObj(v) && v.default !== undefined) w.out.push(forbidden(`${path}.properties[${k}].default`, 'must not be set for metadata'));
  }
}

function checkNode(node: unknown, path: string, w: Walk, ctx: { specified: 'root' | 'field' | 'items'; root: boolean }): void {
  if (!isObj(node)) {
    w.out.push(invalid(path, node, 'must be a schema object'));
    return;
  }
  const n = node as JSONSchemaProps;
  for (const [k, why] of Object.entries(FORBIDDEN_KEYWORDS)) if (n[k] !== undefined) w.out.push(forbidden(`${path}.${k}`, why));
  if (n.uniqueItems === true) w.out.push(forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));

  const preserve = n['x-kubernetes-preserve-unknown-fields'];
  if (preserve !== undefined && preserve !== true) w.out.push(invalid(`${path}.x-kubernetes-preserve-unknown-fields`, preserve, 'must be true or undefined'));
  const intOrString = n['x-kubernetes-int-or-string'] === true;
  if (intOrString && n.type !== undefined) w.out.push(invalid(`${path}.type`, n.type, 'must be empty if x-kubernetes-int-or-string is true'));

  if (n.type === undefined || n.type === '') {
    if (!intOrString && preserve !== true) {
      const what = ctx.specified === 'root' ? 'must not be empty at the root' : ctx.specified === 'items' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
      w.out.push(required(`${path}.type`, what));
    }
  } else if (!TYPES.includes(n.type)) {
    w.out.push(notSupported(`${path}.type`, n.type, TYPES));
  }
  if (ctx.root && n.type !== undefined && n.type !== 'object') w.out.push(notSupported(`${path}.type`, n.type, ['object']));

  if (n.properties !== undefined && n.additionalProperties !== undefined && n.additionalProperties !== false) {
    w.out.push(forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  }
  if (n.type === 'array') {
    if (n.items === undefined) w.out.push(required(`${path}.items`, 'must be specified'));
    else if (Array.isArray(n.items)) w.out.push(forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  }
  if (n['x-kubernetes-embedded-resource'] === true) {
    if (n.type !== 'object') w.out.push(invalid(`${path}.type`, n.type ?? '', 'must be object if x-kubernetes-embedded-resource is true'));
    if (preserve !== true && !n.properties) w.out.push(required(`${path}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
  const listType = n['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (n.type !== 'array') w.out.push(invalid(`${path}.x-kubernetes-list-type`, listType, 'must only be used if type is array'));
    if (!['atomic', 'set', 'map'].includes(listType)) w.out.push(notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
    if (listType === 'map') {
      const keys = n['x-kubernetes-list-map-keys'] ?? [];
      if (keys.length === 0) w.out.push(required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
      const item = isObj(n.items) ? (n.items as JSONSchemaProps) : undefined;
      if (item && item.type !== 'object') w.out.push(invalid(`${path}.items.type`, item.type ?? '', 'must be object if parent array\'s x-kubernetes-list-type is map'));
      for (const k of keys) {
        const p = item?.properties?.[k];
        if (!p) w.out.push(invalid(`${path}.x-kubernetes-list-map-keys`, keys, `entries must all be names of item properties (${k} is not)`));
        else if (!(item?.required ?? []).includes(k) && p.default === undefined) w.out.push(required(`${path}.items.properties[${k}]`, 'all map keys must be required or have a default value'));
      }
    }
  }
  if (n['x-kubernetes-validations']?.length) w.warnings.push(`${path}.x-kubernetes-validations: CEL validation rules are stored but not enforced by kubelite`);
  if (n.default !== undefined) {
    const why = defaultFits(n, n.default);
    if (why) w.out.push(invalid(`${path}.default`, n.default, why));
  }

  for (const j of JUNCTORS) {
    const v = n[j];
    if (Array.isArray(v)) v.forEach((x, i) => checkJunctorNode(x, `${path}.${j}[${i}]`, w));
    else if (v !== undefined) checkJunctorNode(v, `${path}.${j}`, w);
  }
  if (isObj(n.properties)) {
    for (const [k, v] of Object.entries(n.properties)) {
      const p = `${path}.properties[${k}]`;
      if (ctx.root && k === 'metadata' && isObj(v)) checkMetadata(v as JSONSchemaProps, p, w);
      else checkNode(v, p, w, { specified: 'field', root: false });
    }
  }
  if (isObj(n.additionalProperties)) checkNode(n.additionalProperties, `${path}.additionalProperties`, w, { specified: 'field', root: false });
  if (isObj(n.items)) checkNode(n.items, `${path}.items`, w, { specified: 'items', root: false });
}

/** Causes that make `schema` non-structural (empty when it is structural), and warnings to pass on. */
export function structuralCauses(schema: unknown, path: string): { causes: StatusCause[]; warnings: string[] } {
  const w: Walk = { out: [], warnings: [] };
  checkNode(schema, path, w, { specified: 'root', root: true });
  return { causes: w.out, warnings: w.warnings };
}

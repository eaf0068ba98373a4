// CustomResourceDefinition rules (apiextensions-apiserver's ValidateCustomResourceDefinition): the
// name is `<plural>.<group>`, names are DNS labels, exactly one storage version, a structural schema
// for every version, sane subresources and printer columns, conversion None. Conflicts with other
// served names are the server's to check (it knows what is served); everything here is pure.

import { JSONPath } from 'jsonpath-plus';
import { isDNS1035Label, isDNS1123Subdomain } from '../names.js';
import { structuralCauses } from '../crd/structural.js';
import { type Causes, child, duplicate, forbidden, index, invalid, isObj, listAt, notSupported, objAt, required, strAt, type Obj } from './field.js';

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];

function dns1035(path: string, value: string, prefix = ''): Causes {
  const errs = isDNS1035Label(value);
  return value && errs.length ? [invalid(path, value, prefix + errs.join(','))] : [];
}

/** A printer column's or scale path's JSONPath compiles (kubectl-style, without braces). */
export function jsonPathError(path: string): string | undefined {
  if (!path.startsWith('.')) return 'must be a JSON path starting with "."';
  // jsonpath-plus forgives an unclosed bracket or brace; client-go's parser (kubectl's) does not.
  let depth = 0;
  for (const ch of path) {
    if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth--;
    if (depth < 0) return 'must be a valid JSON path: unexpected closing bracket';
  }
  if (depth !== 0) return 'must be a valid JSON path: unterminated array';
  try {
    JSONPath({ path: `$${path}`, json: {}, wrap: true });
    return undefined;
  } catch (err) {
    return `must be a valid JSON path: ${(err as Error).message}`;
  }
}

function simplePath(path: string, value: string, under: string[]): Causes {
  if (!value) return [required(path)];
  if (!/^(\.[A-Za-z0-9_-]+)+$/.test(value)) return [invalid(path, value, 'must be a simple json path (no array notation)')];
  if (!under.some((u) => value.startsWith(u + '.'))) return [invalid(path, value, `should be a json path under ${under.join(' or ')}`)];
  return [];
}

function validateNames(names: Obj, path: string): Causes {
  const out: Causes = [];
  const plural = strAt(names.plural);
  const singular = strAt(names.singular);
  const kind = strAt(names.kind);
  const listKind = strAt(names.listKind);
  if (!plural) out.push(required(child(path, 'plural')));
  out.push(...dns1035(child(path, 'plural'), plural));
  out.push(...dns1035(child(path, 'singular'), singular));
  if (!kind) out.push(required(child(path, 'kind')));
  else if (isDNS1035Label(kind.toLowerCase()).length) out.push(invalid(child(path, 'kind'), kind, `may have mixed case, but should otherwise match: ${isDNS1035Label(kind.toLowerCase()).join(',')}`));
  if (!listKind) out.push(required(child(path, 'listKind')));
  else if (isDNS1035Label(listKind.toLowerCase()).length) out.push(invalid(child(path, 'listKind'), listKind, `may have mixed case, but should otherwise match: ${isDNS1035Label(listKind.toLowerCase()).join(',')}`));
  if (kind && kind === listKind) out.push(invalid(child(path, 'listKind'), listKind, 'kind and listKind may not be the same or parsing become ambiguous'));
  listAt<string>(names.shortNames).forEach((s, i) => out.push(...dns1035(index(child(path, 'shortNames'), i), strAt(s))));
  listAt<string>(names.categories).forEach((s, i) => out.push(...dns1035(index(child(path, 'categories'), i), strAt(s))));
  return out;
}

function validateVersion(v: Obj, path: string, warnings: string[]): Causes {
  const out: Causes = [];
  const name = strAt(v.name);
  if (!name) out.push(required(child(path, 'name')));
  else out.push(...dns1035(child(path, 'name'), name));
  const schema = objAt(v.schema).openAPIV3Schema;
  const schemaPath = child(path, 'schema', 'openAPIV3Schema');
  if (schema === undefined) out.push(required(schemaPath, 'schemas are required'));
  else {
    const s = structuralCauses(schema, schemaPath);
    out.push(...s.causes);
    warnings.push(...s.warnings);
  }
  const sub = objAt(v.subresources);
  if (isObj(sub.scale)) {
    const scale = sub.scale;
    const sp = child(path, 'subresources', 'scale');
    out.push(...simplePath(child(sp, 'specReplicasPath'), strAt(scale.specReplicasPath), ['.spec']));
    out.push(...simplePath(child(sp, 'statusReplicasPath'), strAt(scale.statusReplicasPath), ['.status']));
    if (scale.labelSelectorPath !== undefined) out.push(...simplePath(child(sp, 'labelSelectorPath'), strAt(scale.labelSelectorPath), ['.spec', '.status']));
  }
  listAt(v.additionalPrinterColumns).forEach((c, i) => {
    const cp = index(child(path, 'additionalPrinterColumns'), i);
    if (!strAt(c.name)) out.push(required(child(cp, 'name')));
    if (!COLUMN_TYPES.includes(strAt(c.type))) out.push(notSupported(child(cp, 'type'), c.type, COLUMN_TYPES));
    if (c.format !== undefined && c.format !== '' && !COLUMN_FORMATS.includes(strAt(c.format))) out.push(notSupported(child(cp, 'format'), c.format, COLUMN_FORMATS));
    if (typeof c.priority === 'number' && c.priority < 0) out.push(invalid(child(cp, 'priority'), c.priority, 'must be greater than or equal to 0'));
    const jp = strAt(c.jsonPath);
    if (!jp) out.push(required(child(cp, 'jsonPath')));
    else {
      const why = jsonPathError(jp);
      if (why) out.push(invalid(child(cp, 'jsonPath'), jp, why));
    }
  });
  if (v.deprecated === true) warnings.push(`version ${name} is marked deprecated: its clients will be warned`);
  return out;
}

/** Validates a CustomResourceDefinition (create; with `old`, also what an update may not change). */
export function validateCRD(o: Obj, old?: Obj, warnings: string[] = []): Causes {
  const out: Causes = [];
  const spec = objAt(o.spec);
  const names = objAt(spec.names);
  const group = strAt(spec.group);
  const name = strAt(objAt(o.metadata).name);
  const plural = strAt(names.plural);
  if (name && plural && group && name !== `${plural}.${group}`) out.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (!group) out.push(required('spec.group'));
  else {
    const errs = isDNS1123Subdomain(group);
    if (errs.length) out.push(invalid('spec.group', group, errs.join(',')));
    else if (!group.includes('.')) out.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  out.push(...validateNames(names, 'spec.names'));

  const versions = listAt(spec.versions);
  if (versions.length === 0) out.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  let storage = 0;
  versions.forEach((v, i) => {
    const vp = index('spec.versions', i);
    const vname = strAt(v.name);
    if (vname && seen.has(vname)) out.push(duplicate(child(vp, 'name'), vname));
    seen.add(vname);
    if (v.storage === true) storage++;
    out.push(...validateVersion(v, vp, warnings));
  });
  if (versions.length > 0 && storage !== 1) out.push(invalid('spec.versions', versions.map((v) => strAt(v.name)), 'must have exactly one version marked as storage version'));
  if (versions.length > 0 && !versions.some((v) => v.served === true)) warnings.push('no version of this CustomResourceDefinition is served');

  const conversion = objAt(spec.conversion);
  if (conversion.strategy !== undefined && conversion.strategy !== 'None') {
    out.push(notSupported('spec.conversion.strategy', conversion.strategy, ['None']));
  }
  if (spec.preserveUnknownFields === true) out.push(invalid('spec.preserveUnknownFields', true, 'must be false in order to use defaults in the schema'));

  const stored = listAt<string>(objAt(o.status).storedVersions);
  stored.forEach((sv, i) => {
    if (!seen.has(strAt(sv))) out.push(invalid(index('status.storedVersions', i), sv, 'must appear in spec.versions'));
  });

  if (old) {
    const oldSpec = objAt(old.spec);
    if (oldSpec.group !== undefined && spec.group !== oldSpec.group) out.push(invalid('spec.group', spec.group, 'field is immutable'));
    const established = listAt(objAt(old.status).conditions).some((c) => c.type === 'Established' && c.status === 'True');
    if (established && oldSpec.scope !== undefined && spec.scope !== oldSpec.scope) out.push(invalid('spec.scope', spec.scope, 'field is immutable'));
    if (strAt(objAt(oldSpec.names).plural) && plural !== strAt(objAt(oldSpec.names).plural)) out.push(invalid('spec.names.plural', plural, 'field is immutable'));
  }
  if (isObj(spec.names) && Object.keys(spec.names).length === 0) out.push(forbidden('spec.names', 'must not be empty'));
  return out;
}

/** v1 defaulting: listKind, singular, conversion strategy. */
export function defaultCRD(o: Obj): void {
  const spec = objAt(o.spec);
  if (!isObj(o.spec)) return;
  const names = isObj(spec.names) ? spec.names : undefined;
  if (names) {
    const kind = strAt(names.kind);
    if (kind && !names.listKind) names.listKind = `${kind}List`;
    if (kind && !names.singular) names.singular = kind.toLowerCase();
  }
  if (!isObj(spec.conversion)) spec.conversion = { strategy: 'None' };
}

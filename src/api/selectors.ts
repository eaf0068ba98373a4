// Label and field selectors: the `?labelSelector=`/`?fieldSelector=` query syntax kubectl sends, the
// structured LabelSelector of Deployments/ReplicaSets, and the plain map selector of Services, all
// turned into predicates once so list/watch filtering is a function call per object.

import { errors } from './errors.js';
import { isQualifiedName, isValidLabelValue } from './names.js';
import type { ResourceInfo } from './resources.js';
import type { KObject, LabelSelector } from './types.js';

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

export type SelectorOperator = 'in' | 'notin' | 'exists' | '!' | '=' | '==' | '!=' | 'gt' | 'lt';

/** One parsed term of a label selector. */
export interface Requirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}

const matchAll: LabelMatcher = () => true;

// ---------- label selector strings ----------

type TokenType = 'id' | '=' | '==' | '!=' | '!' | '(' | ')' | ',' | '>' | '<' | 'end';
interface Token {
  type: TokenType;
  text: string;
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '<', '>']);

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = s.slice(i, i + 2);
    if (two === '==' || two === '!=') {
      out.push({ type: two, text: two });
      i += 2;
      continue;
    }
    if (SPECIAL.has(c)) {
      out.push({ type: c as TokenType, text: c });
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && !/\s/.test(s[j]) && !SPECIAL.has(s[j])) j++;
    out.push({ type: 'id', text: s.slice(i, j) });
    i = j;
  }
  out.push({ type: 'end', text: '' });
  return out;
}

function parseError(msg: string): never {
  throw errors.badRequest(`unable to parse requirement: ${msg}`);
}

function describe(t: Token): string {
  return t.type === 'end' ? 'end of string' : `'${t.text}'`;
}

// Worded as Kubernetes' field errors inside the parse error: `key: Invalid value: "a b": name part must ...`.
function checkKey(key: string): void {
  const errs = isQualifiedName(key);
  if (errs.length) parseError(`key: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

function checkValue(key: string, value: string, i = 0): void {
  const errs = isValidLabelValue(value);
  if (errs.length) parseError(`values[${i}][${key}]: Invalid value: ${JSON.stringify(value)}: ${errs.join('; ')}`);
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3` into requirements. Throws a 400 StatusError. */
export function parseLabelSelectorRequirements(s: string): Requirement[] {
  const toks = tokenize(s);
  let pos = 0;
  const peek = () => toks[pos];
  const next = () => toks[pos++];
  const reqs: Requirement[] = [];
  if (peek().type === 'end') return reqs;
  for (;;) {
    const t = next();
    let req: Requirement;
    if (t.type === '!') {
      const key = next();
      if (key.type !== 'id') parseError(`found ${describe(key)}, expected: identifier`);
      checkKey(key.text);
      req = { key: key.text, operator: '!', values: [] };
    } else if (t.type === 'id') {
      checkKey(t.text);
      req = parseAfterKey(t.text);
    } else {
      parseError(`found ${describe(t)}, expected: !, identifier, or 'end of string'`);
    }
    reqs.push(req);
    const sep = next();
    if (sep.type === 'end') return reqs;
    if (sep.type !== ',') parseError(`found ${describe(sep)}, expected: ',' or 'end of string'`);
    // A trailing comma is tolerated ("a=b," is "a=b"), as Kubernetes does.
    if (peek().type === 'end') return reqs;
  }

  function parseAfterKey(key: string): Requirement {
    const op = peek();
    if (op.type === 'end' || op.type === ',') return { key, operator: 'exists', values: [] };
    next();
    if (op.type === '=' || op.type === '==' || op.type === '!=') {
      const v = peek();
      let value = '';
      if (v.type === 'id') {
        next();
        value = v.text;
      } else if (v.type !== 'end' && v.type !== ',') {
        parseError(`found ${describe(v)}, expected: identifier`);
      }
      checkValue(key, value);
      return { key, operator: op.type, values: [value] };
    }
    if (op.type === '>' || op.type === '<') {
      const v = next();
      if (v.type !== 'id' || !/^-?\d+$/.test(v.text)) parseError(`for 'Gt', 'Lt' operators, the value must be an integer, found ${describe(v)}`);
      return { key, operator: op.type === '>' ? 'gt' : 'lt', values: [v.text] };
    }
    if (op.type === 'id' && (op.text === 'in' || op.text === 'notin')) {
      const lp = next();
      if (lp.type !== '(') parseError(`found ${describe(lp)}, expected: '('`);
      const values: string[] = [];
      for (;;) {
        const v = peek();
        if (v.type === 'id') {
          next();
          checkValue(key, v.text, values.length);
          values.push(v.text);
        } else if (v.type === ',' || v.type === ')') {
          // an empty element ("(a,,b)" or "(a,)") is the empty string value
          if (v.type === ',' || values.length > 0) values.push('');
        } else {
          parseError(`found ${describe(v)}, expected: ',', ')' or identifier`);
        }
        const after = next();
        if (after.type === ')') break;
        if (after.type !== ',') parseError(`found ${describe(after)}, expected: ',' or ')'`);
      }
      const cleaned = dedupe(values);
      if (cleaned.length === 0) parseError(`for 'in', 'notin' operators, values set can't be empty`);
      return { key, operator: op.text, values: cleaned };
    }
    return parseError(`found ${describe(op)}, expected: '=', '!=', '==', 'in', 'notin'`);
  }
}

function dedupe(values: string[]): string[] {
  // "(a,)" yields a trailing '' only when written explicitly; keep order, drop repeats.
  const out: string[] = [];
  for (const v of values) if (!out.includes(v)) out.push(v);
  return out;
}

function requirementMatcher(r: Requirement): (labels: Record<string, string>) => boolean {
  const { key, values } = r;
  const has = (l: Record<string, string>) => Object.prototype.hasOwnProperty.call(l, key);
  switch (r.operator) {
    case 'exists':
      return has;
    case '!':
      return (l) => !has(l);
    case '=':
    case '==':
    case 'in':
      return (l) => has(l) && values.includes(l[key]);
    case '!=':
    case 'notin':
      return (l) => !has(l) || !values.includes(l[key]);
    case 'gt':
    case 'lt': {
      const bound = Number(values[0]);
      return (l) => {
        if (!has(l) || !/^-?\d+$/.test(l[key])) return false;
        const n = Number(l[key]);
        return r.operator === 'gt' ? n > bound : n < bound;
      };
    }
  }
}

function matcherOf(reqs: Requirement[]): LabelMatcher {
  if (reqs.length === 0) return matchAll;
  const fns = reqs.map(requirementMatcher);
  return (labels) => {
    const l = labels ?? {};
    return fns.every((f) => f(l));
  };
}

/** A `?labelSelector=` string as a predicate. The empty string matches everything. */
export function parseLabelSelector(s: string): LabelMatcher {
  return matcherOf(parseLabelSelectorRequirements(s));
}

// ---------- structured selectors ----------

/** Requirements of a metav1.LabelSelector, or undefined if an operator is not one Kubernetes knows. */
export function labelSelectorRequirements(sel: LabelSelector): Requirement[] | undefined {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key, operator: '=', values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])];
    switch (e.operator) {
      case 'In':
        reqs.push({ key: e.key, operator: 'in', values });
        break;
      case 'NotIn':
        reqs.push({ key: e.key, operator: 'notin', values });
        break;
      case 'Exists':
        reqs.push({ key: e.key, operator: 'exists', values: [] });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, operator: '!', values: [] });
        break;
      default:
        return undefined;
    }
  }
  return reqs;
}

/**
 * matchLabels AND matchExpressions. An undefined or empty selector matches everything (callers that
 * must treat "no selector" as "nothing", such as Services, check that first). A selector with an
 * operator Kubernetes does not know matches nothing: validation refuses such objects, and matching
 * nothing is the safe reading of one that slipped through.
 */
export function labelSelectorMatcher(sel: LabelSelector | undefined): LabelMatcher {
  if (!sel) return matchAll;
  const reqs = labelSelectorRequirements(sel);
  if (!reqs) return () => false;
  return matcherOf(reqs);
}

/** A Service-style `selector: {app: web}`: every pair must be present. An empty map matches everything. */
export function mapSelectorMatcher(sel: Record<string, string>): LabelMatcher {
  const entries = Object.entries(sel);
  if (entries.length === 0) return matchAll;
  return (labels) => {
    if (!labels) return false;
    return entries.every(([k, v]) => Object.prototype.hasOwnProperty.call(labels, k) && labels[k] === v);
  };
}

function requirementToString(r: Requirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case '=':
    case '==':
      return `${r.key}=${r.values[0] ?? ''}`;
    case '!=':
      return `${r.key}!=${r.values[0] ?? ''}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${[...r.values].sort().join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
  }
}

/** Requirements in Kubernetes' canonical order (by key, stable) and form: `app=web,tier in (a,b)`. */
export function requirementsToString(reqs: Requirement[]): string {
  return reqs
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : a.i - b.i))
    .map(({ r }) => requirementToString(r))
    .join(',');
}

/** As `kubectl describe` prints `Selector:` and the Scale subresource reports `status.selector`. */
export function labelSelectorToString(sel: LabelSelector): string {
  const reqs = labelSelectorRequirements(sel);
  if (!reqs) return '';
  return requirementsToString(reqs);
}

// ---------- field selectors ----------

type FieldGetter = (obj: KObject) => unknown;

function path(...keys: string[]): FieldGetter {
  return (obj) => {
    let cur: unknown = obj;
    for (const k of keys) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[k];
    }
    return cur;
  };
}

/** Boolean fields compare as Go's strconv.FormatBool of the zero-defaulted value. */
function boolPath(...keys: string[]): FieldGetter {
  const get = path(...keys);
  return (obj) => String(get(obj) === true);
}

const COMMON_FIELDS: Record<string, FieldGetter> = {
  'metadata.name': path('metadata', 'name'),
  'metadata.namespace': path('metadata', 'namespace'),
};

const FIELDS_BY_KIND: Record<string, Record<string, FieldGetter>> = {
  Pod: {
    'spec.nodeName': path('spec', 'nodeName'),
    'spec.restartPolicy': path('spec', 'restartPolicy'),
    'spec.schedulerName': path('spec', 'schedulerName'),
    'spec.serviceAccountName': path('spec', 'serviceAccountName'),
    'spec.hostNetwork': boolPath('spec', 'hostNetwork'),
    'status.phase': path('status', 'phase'),
    'status.podIP': path('status', 'podIP'),
    'status.nominatedNodeName': path('status', 'nominatedNodeName'),
  },
  Event: {
    'involvedObject.kind': path('involvedObject', 'kind'),
    'involvedObject.namespace': path('involvedObject', 'namespace'),
    'involvedObject.name': path('involvedObject', 'name'),
    'involvedObject.uid': path('involvedObject', 'uid'),
    'involvedObject.apiVersion': path('involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': path('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': path('involvedObject', 'fieldPath'),
    reason: path('reason'),
    reportingComponent: path('reportingComponent'),
    source: path('source', 'component'),
    type: path('type'),
  },
  Secret: { type: path('type') },
  Namespace: { 'status.phase': path('status', 'phase') },
  Node: { 'spec.unschedulable': boolPath('spec', 'unschedulable') },
  ReplicaSet: { 'status.replicas': path('status', 'replicas') },
};

/** The field names `?fieldSelector=` accepts for a kind. */
export function supportedFieldSelectors(res: ResourceInfo): string[] {
  return [...Object.keys(COMMON_FIELDS), ...Object.keys(FIELDS_BY_KIND[res.kind] ?? {})];
}

function fieldString(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

/** Splits on unescaped `sep`, keeping escapes for the caller to undo. */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}

function unescapeFieldValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') {
      const n = v[i + 1];
      if (n === undefined || !['\\', ',', '='].includes(n)) throw errors.badRequest(`invalid field selector: invalid escape sequence in value: ${JSON.stringify(v)}`);
      out += n;
      i++;
    } else {
      out += v[i];
    }
  }
  return out;
}

/**
 * A `?fieldSelector=` string (`f=v`, `f==v`, `f!=v`, comma = AND, `\,` `\=` `\\` escapes) as a
 * predicate over objects of `res`. Unsupported fields are a 400, as on a real API server.
 */
export function parseFieldSelector(res: ResourceInfo, s: string): (obj: KObject) => boolean {
  const fields = { ...COMMON_FIELDS, ...(FIELDS_BY_KIND[res.kind] ?? {}) };
  const terms = s.trim() === '' ? [] : splitUnescaped(s, ',');
  const preds: ((obj: KObject) => boolean)[] = [];
  for (const raw of terms) {
    const term = raw.trim();
    if (term === '') continue;
    let field: string;
    let op: '=' | '!=';
    let value: string;
    const ne = term.indexOf('!=');
    const eq = term.indexOf('=');
    if (ne >= 0 && ne < eq) {
      field = term.slice(0, ne);
      op = '!=';
      value = term.slice(ne + 2);
    } else if (eq >= 0) {
      field = term.slice(0, eq);
      op = '=';
      value = term.slice(term.startsWith('==', eq) ? eq + 2 : eq + 1);
    } else {
      throw errors.badRequest(`invalid field selector: '${term}'; can't understand '${term}'`);
    }
    field = field.trim();
    const get = fields[field];
    if (!get) throw errors.badRequest(`field label not supported: ${field}`);
    const want = unescapeFieldValue(value.trim());
    preds.push(op === '=' ? (o) => fieldString(get(o)) === want : (o) => fieldString(get(o)) !== want);
  }
  if (preds.length === 0) return () => true;
  return (obj) => preds.every((p) => p(obj));
}

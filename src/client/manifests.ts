// Reading manifests for `apply`, `create`, `delete -f`: files, directories (recursively), or stdin;
// multi-document YAML, JSON, and `kind: List`. Every problem names the file, the document and the
// line, and one bad document never hides the good ones.

import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { isCyclic, jsonDepthProblem, yamlDepthProblem } from '../api/nesting.js';
import type { KObject } from '../api/types.js';

export interface Manifest {
  object: KObject;
  source: string;
  /** 1-based document index within the source */
  document: number;
  /** 1-based line where the document starts */
  line: number;
}

export interface ManifestError {
  source: string;
  document?: number;
  line?: number;
  message: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function formatManifestError(e: ManifestError): string {
  const where = [e.source, e.document !== undefined ? `document ${e.document}` : undefined, e.line !== undefined ? `line ${e.line}` : undefined].filter(Boolean).join(', ');
  return `error: ${where}: ${e.message}`;
}

/** Expands paths (files, dirs, '-') into the files to read, in a stable order. */
export function expandPaths(paths: string[]): { files: string[]; errors: ManifestError[] } {
  const files: string[] = [];
  const errors: ManifestError[] = [];
  const walk = (p: string, top: boolean) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      errors.push({ source: p, message: 'no such file or directory' });
      return;
    }
    if (st.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) {
        if (entry.startsWith('.')) continue;
        walk(path.join(p, entry), false);
      }
    } else if (top || EXTENSIONS.has(path.extname(p).toLowerCase())) files.push(p);
  };
  for (const p of paths) {
    if (p === '-') files.push('-');
    else walk(p, true);
  }
  return { files, errors };
}

/** Parses one source's text into manifests and per-document errors. */
export function parseManifests(text: string, source: string): { manifests: Manifest[]; errors: ManifestError[] } {
  const manifests: Manifest[] = [];
  const errors: ManifestError[] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const deep = jsonDepthProblem(text);
    if (deep) {
      errors.push({ source, document: 1, line: deep.line, message: `invalid JSON: ${deep.message}` });
      return { manifests, errors };
    }
    try {
      const parsed = JSON.parse(text);
      collect(parsed, source, 1, 1, manifests, errors);
      return { manifests, errors };
    } catch (err) {
      // Not JSON after all (YAML flow style): fall through to the YAML parser, which reports lines.
      if (!/^\s*[{[]/.test(text) || source.endsWith('.json')) {
        const m = /position (\d+)/.exec((err as Error).message);
        const line = m ? text.slice(0, Number(m[1])).split('\n').length : undefined;
        errors.push({ source, document: 1, line, message: `invalid JSON: ${(err as Error).message}` });
        return { manifests, errors };
      }
    }
  }
  // The yaml library recurses per level: bound the depth first, with the line it was crossed on.
  const deep = yamlDepthProblem(text);
  if (deep) {
    errors.push({ source, document: 1, line: deep.line, message: `invalid YAML: ${deep.message}` });
    return { manifests, errors };
  }
  const lineCounter = new YAML.LineCounter();
  const docs = YAML.parseAllDocuments(text, { lineCounter });
  const list = Array.isArray(docs) ? docs : [docs];
  let index = 0;
  for (const doc of list) {
    index++;
    const startLine = doc.range ? lineCounter.linePos(doc.range[0]).line : 1;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line ?? startLine;
        errors.push({ source, document: index, line, message: `invalid YAML: ${e.message.split('\n')[0]}` });
      }
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 });
    if (isCyclic(value)) {
      errors.push({ source, document: index, line: startLine, message: 'invalid YAML: an alias refers to a node that contains it (a cycle)' });
      continue;
    }
    if (value === null || value === undefined) continue; // empty document (e.g. a trailing ---)
    collect(value, source, index, startLine, manifests, errors);
  }
  return { manifests, errors };
}

function collect(value: unknown, source: string, document: number, line: number, out: Manifest[], errors: ManifestError[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collect(v, source, document, line, out, errors);
    return;
  }
  if (typeof value !== 'object' || value === null) {
    errors.push({ source, document, line, message: `expected an object with apiVersion and kind, got ${JSON.stringify(value)?.slice(0, 40)}` });
    return;
  }
  const obj = value as KObject;
  if (obj.kind === 'List' || (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray((obj as { items?: unknown }).items))) {
    for (const item of (obj as unknown as { items: unknown[] }).items ?? []) collect(item, source, document, line, out, errors);
    return;
  }
  if (typeof obj.apiVersion !== 'string' || !obj.apiVersion) {
    errors.push({ source, document, line, message: "apiVersion not set: every object needs 'apiVersion' and 'kind'" });
    return;
  }
  if (typeof obj.kind !== 'string' || !obj.kind) {
    errors.push({ source, document, line, message: "kind not set: every object needs 'apiVersion' and 'kind'" });
    return;
  }
  obj.metadata ??= {};
  out.push({ object: obj, source, document, line });
}

export function readManifests(paths: string[], stdin: () => string = () => fs.readFileSync(0, 'utf8')): { manifests: Manifest[]; errors: ManifestError[] } {
  const { files, errors } = expandPaths(paths);
  const manifests: Manifest[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? stdin() : fs.readFileSync(file, 'utf8');
    } catch (err) {
      errors.push({ source: file, message: (err as Error).message });
      continue;
    }
    const parsed = parseManifests(text, file === '-' ? '<stdin>' : file);
    manifests.push(...parsed.manifests);
    errors.push(...parsed.errors);
  }
  if (files.length === 0 && errors.length === 0) errors.push({ source: paths.join(', '), message: 'no manifests found (looked for .yaml, .yml and .json files)' });
  return { manifests, errors };
}

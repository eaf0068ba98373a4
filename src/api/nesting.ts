// Nesting depth of JSON and YAML documents, bounded before anything recursive touches them.
// kube-apiserver refuses JSON nested deeper than 10,000 levels; JavaScript's recursive builtins give out
// far sooner (JSON.stringify of a 5,000-level object throws "Maximum call stack size exceeded", the yaml
// library at ~800 levels), so kubelite refuses at lower bounds that no served kind comes near (a Pod
// template nests ~12 levels): a 400 naming the limit and where it was crossed, never a 500. Both scans
// are iterative and stop at the first level past the limit, so a hostile 1M-level body costs one pass.

import { Lexer, Parser } from 'yaml';

/** JSON bodies and patches (every patch type) nested deeper than this are refused. */
export const MAX_JSON_DEPTH = 1000;
/** YAML documents (server-side apply bodies, the CLI's manifests) nested deeper than this are refused. */
export const MAX_YAML_DEPTH = 500;

export interface DepthProblem {
  /** 1-based line where the limit was crossed. */
  line: number;
  /** 1-based column. */
  column: number;
  message: string;
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Where JSON text nests deeper than `max` (objects and arrays; strings skipped), or undefined. */
export function jsonDepthProblem(text: string, max = MAX_JSON_DEPTH): DepthProblem | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) {
        const pos = position(text, i);
        return { ...pos, message: `nesting is deeper than ${max} levels at line ${pos.line}, column ${pos.column} (exceeded max depth)` };
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return undefined;
}

/** Where YAML text nests deeper than `max` (block and flow collections), or undefined. Uses yaml's iterative CST parser. */
export function yamlDepthProblem(text: string, max = MAX_YAML_DEPTH): DepthProblem | undefined {
  const lexer = new Lexer();
  const parser = new Parser();
  // The parser's stack holds the document plus one entry per open collection.
  for (const lexeme of lexer.lex(text)) {
    for (const _ of parser.next(lexeme)) {
      /* tokens are not needed, only the depth */
    }
    if (parser.stack.length - 1 > max) {
      const pos = position(text, parser.offset);
      return { ...pos, message: `nesting is deeper than ${max} levels at line ${pos.line}, column ${pos.column}` };
    }
  }
  return undefined;
}

/** Whether a parsed YAML value refers back to one of its own ancestors (`a: &x [*x]`); call after the depth check. */
export function isCyclic(value: unknown, ancestors: Set<object> = new Set()): boolean {
  if (!value || typeof value !== 'object') return false;
  if (ancestors.has(value)) return true;
  ancestors.add(value);
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (isCyclic(v, ancestors)) return true;
  ancestors.delete(value);
  return false;
}

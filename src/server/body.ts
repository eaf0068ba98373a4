// Request bodies by media type. kubectl sends JSON for writes, three patch flavours, and YAML for
// server-side apply; anything else is a 415 Status rather than a guess.

import type { Request } from 'express';
import YAML from 'yaml';
import { errors } from '../api/errors.js';
import type { PatchType } from '../client/types.js';
import { isCyclic, jsonDepthProblem, yamlDepthProblem } from '../api/nesting.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/json-patch+json': 'json',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

export function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

export function patchTypeOf(req: Request): PatchType {
  const t = PATCH_TYPES[mediaType(req)];
  if (!t || mediaType(req) === 'application/apply-patch+cbor') throw errors.unsupportedMediaType(mediaType(req));
  return t;
}

/** Past the limit a body is still read (and dropped) up to this much, so the client gets its 413 rather than a reset. */
const DISCARD_BYTES = 64 * 1024 * 1024;

/** The whole request body, refused with 413 past MAX_BODY_BYTES. */
export async function readRawBody(req: Request): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES + DISCARD_BYTES) break;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw errors.tooLarge(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
  return Buffer.concat(chunks);
}

/** Reads the whole body (bounded) and decodes it by Content-Type. */
export async function readBody(req: Request): Promise<unknown> {
  const text = (await readRawBody(req)).toString('utf8');
  if (text.trim() === '') return undefined;
  const type = mediaType(req);
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml' || type === 'text/yaml') {
    const deep = yamlDepthProblem(text);
    if (deep) throw errors.badRequest(`error decoding YAML: ${deep.message}`);
    let value: unknown;
    try {
      value = YAML.parse(text, { maxAliasCount: 100 });
    } catch (err) {
      const e = err as { linePos?: { line: number }[]; message: string };
      throw errors.badRequest(`error decoding YAML${e.linePos?.[0] ? ` at line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}`);
    }
    // An alias inside its own anchor (`a: &x [*x]`) makes a cycle no JSON object can hold.
    if (isCyclic(value)) throw errors.badRequest('error decoding YAML: an alias refers to a node that contains it (a cycle)');
    return value;
  }
  if (type === '' || type === 'application/json' || type.endsWith('+json')) {
    // Bounded before parsing: a 1M-level body must be a 400, not a stack overflow further on.
    const deep = jsonDepthProblem(text);
    if (deep) throw errors.badRequest(`error decoding JSON: ${deep.message}`);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw errors.badRequest(`error decoding JSON: ${(err as Error).message}`);
    }
  }
  throw errors.unsupportedMediaType(type);
}

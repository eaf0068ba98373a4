// Patches of every flavour the API accepts, one entry point per request type.

import { errors } from '../errors.js';
import type { ResourceInfo } from '../resources.js';
import type { KObject } from '../types.js';
import { isObject, show } from './json.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge.js';
import { applyStrategicMergePatch } from './strategic.js';

export { applyMergePatch } from './merge.js';
export { applyJsonPatch, parsePointer } from './json-patch.js';
export { applyStrategicMergePatch } from './strategic.js';
export { mergeKeyFor, schemaFor, hasStrategy, type FieldStrategy, type PatchStrategy, type SchemaNode } from './strategy.js';
export { serverSideApply, readRecords, LAST_APPLIED_ANNOTATION, type ApplyOptions, type ApplyConflict } from './apply.js';
export { threeWayMergePatch, twoWayMergePatch } from './diff.js';

export type NonApplyPatchType = 'merge' | 'strategic' | 'json';

/** Applies a merge, strategic merge or JSON patch to `target` (not modified); the result must be an object. */
export function applyPatch(res: Pick<ResourceInfo, 'group' | 'kind'> | undefined, target: KObject, type: NonApplyPatchType, patch: unknown): KObject {
  let out: unknown;
  switch (type) {
    case 'merge':
      if (!isObject(patch)) throw errors.badRequest(`a merge patch must be a JSON object, got ${show(patch)}`);
      out = applyMergePatch(target, patch);
      break;
    case 'strategic':
      out = applyStrategicMergePatch(res, target, patch);
      break;
    case 'json':
      out = applyJsonPatch(target, patch);
      break;
    default:
      throw errors.unsupportedMediaType(String(type));
  }
  if (!isObject(out)) throw errors.badRequest(`the patch produced ${show(out)}, not an object`);
  return out as KObject;
}

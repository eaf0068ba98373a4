// The content hash an image is labelled with: everything that decides its bytes and config. The same
// hash on the existing image means there is nothing to rebuild.

import { createHash } from 'node:crypto';
import { dockerChanges } from './changes.js';
import { RECIPE_VERSION, type ImageRecipe } from './recipes.js';

/**
 * @param digests for each `copy` and `tree` entry (by its path in the rootfs), the sha256 of its host
 *   content; the host path itself does not count, so moving busybox does not force a rebuild.
 */
export function recipeHash(recipe: ImageRecipe, digests: ReadonlyMap<string, string>): string {
  const entries = recipe.entries.map((e) => {
    switch (e.kind) {
      case 'copy':
      case 'tree': {
        const digest = digests.get(e.path);
        if (!digest) throw new Error(`no content digest for ${e.path}`);
        return e.kind === 'copy' ? { kind: e.kind, path: e.path, mode: e.mode, digest } : { kind: e.kind, path: e.path, digest };
      }
      case 'file':
        return { kind: e.kind, path: e.path, mode: e.mode, digest: sha256(e.content) };
      default:
        return e;
    }
  });
  const canonical = JSON.stringify({ v: RECIPE_VERSION, ref: recipe.ref, changes: dockerChanges(recipe.config), entries });
  return sha256(canonical);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

// The page's files, served from memory: index.html, app.css and app.js from the directory next to
// this module (dist/src/ui/static after `npm run build`; src/ui/static with app.js bundled in memory
// when running from the sources).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export const ASSET_NAMES = ['index.html', 'app.js', 'app.css', 'favicon.svg'] as const;

const MISSING_BUNDLE = `document.body.textContent = 'The kubelite UI was not built: run npm run build.';`;

function asset(name: string, body: Buffer): Asset {
  return { body, type: TYPES[path.extname(name)] ?? 'application/octet-stream', etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

export async function loadAssets(log: { warn(o: unknown, m?: string): void }): Promise<Map<string, Asset>> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
  const out = new Map<string, Asset>();
  for (const name of ASSET_NAMES) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) out.set(name, asset(name, fs.readFileSync(file)));
  }
  if (!out.has('app.js')) {
    try {
      const { bundleInMemory } = await import('./bundle.js');
      out.set('app.js', asset('app.js', await bundleInMemory()));
    } catch (err) {
      log.warn({ err: String(err), dir }, 'ui: app.js is not built and cannot be bundled here (run npm run build)');
      out.set('app.js', asset('app.js', Buffer.from(MISSING_BUNDLE)));
    }
  }
  return out;
}

// How the page's script is bundled (esbuild): by the build step into dist, and in memory when the
// server runs from the sources (tsx) and no built bundle exists. One definition for both.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The page's sources (src/ui/web) and its static files (src/ui/static), from the source tree. */
export const WEB_ENTRY = path.join(HERE, 'web', 'main.tsx');
export const STATIC_DIR = path.join(HERE, 'static');

/** esbuild options for app.js (self-contained: Preact and dagre bundled in, nothing fetched at run time). */
export function bundleOptions(entry = WEB_ENTRY) {
  return {
    entryPoints: [entry],
    bundle: true,
    format: 'iife' as const,
    platform: 'browser' as const,
    // Chromium and Firefox of the last few years (fetch streams, optional chaining, ...).
    target: ['chrome100', 'firefox100'],
    jsx: 'automatic' as const,
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: false,
    legalComments: 'none' as const,
    logLevel: 'silent' as const,
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

/** Builds app.js in memory (development: the server runs from the sources). */
export async function bundleInMemory(): Promise<Buffer> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({ ...bundleOptions(), write: false });
  return Buffer.from(r.outputFiles[0].contents);
}

// Part of `npm run build`: the UI's page into dist (dist/src/ui/static, next to the compiled
// src/ui/assets.js that serves it): index.html, app.css and favicon.svg copied, app.js bundled by
// esbuild with Preact and dagre inside, so the page fetches nothing from anywhere else.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { bundleOptions, STATIC_DIR } from '../src/ui/bundle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(ROOT, 'dist', 'src', 'ui', 'static');
fs.mkdirSync(out, { recursive: true });
for (const f of fs.readdirSync(STATIC_DIR)) fs.copyFileSync(path.join(STATIC_DIR, f), path.join(out, f));
const r = await esbuild.build({ ...bundleOptions(), outfile: path.join(out, 'app.js'), metafile: true });
const size = fs.statSync(path.join(out, 'app.js')).size;
if (r.errors.length) process.exit(1);
process.stdout.write(`ui: ${path.relative(ROOT, out)}/app.js ${(size / 1024).toFixed(0)} KiB\n`);

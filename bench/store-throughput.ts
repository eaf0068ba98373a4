// Store micro-benchmark: creates/s for ~1 KB objects (concurrent callers, as the HTTP layer produces
// them, and one-at-a-time), list/get latency, reopen time and memory with 10,000+ objects.
//   node --expose-gc --import tsx bench/store-throughput.ts [count]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { R } from '../src/api/resources.js';
import type { KObject } from '../src/api/types.js';
import type { Store } from '../src/store/types.js';
import { LevelStore } from '../src/store/level-store.js';
import { MemoryStore } from '../src/store/memory-store.js';

const COUNT = Number(process.argv[2] ?? 20_000);

// Child mode: a fresh process that only opens the store, so RSS is what a server pays for the data.
if (process.argv[2] === '--rss') {
  const s = new LevelStore({ path: process.argv[3]! });
  await s.open();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  console.log(JSON.stringify({ count: s.count(), rss: m.rss, heapUsed: m.heapUsed }));
  await s.close();
  process.exit(0);
}
const CONCURRENCY = 64;

function object(ns: string, name: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: ns, name, uid: `0b5e7c1e-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`, labels: { app: 'bench', tier: 'backend' }, creationTimestamp: new Date().toISOString() },
    data: { payload: 'x'.repeat(800) },
  };
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

async function createsPerSecond(store: Store, prefix: string, n: number, concurrency: number): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        await store.create(R.configmaps, object(`ns-${i % 10}`, `${prefix}-${i}`));
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return n / secs;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const out = await fn();
  return [out, Number(process.hrtime.bigint() - start) / 1e6];
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubelite-bench-store-'));
try {
  console.log(`object size: ${JSON.stringify(object('ns-0', 'c-0')).length} bytes of JSON; ${COUNT} creates per run`);

  const mem = new MemoryStore();
  await mem.open();
  console.log(`memory store, ${CONCURRENCY} concurrent callers: ${Math.round(await createsPerSecond(mem, 'm', COUNT, CONCURRENCY))} creates/s`);
  await mem.close();

  const storeDir = path.join(dir, 'store');
  const level = new LevelStore({ path: storeDir });
  await level.open();
  console.log(`level store, ${CONCURRENCY} concurrent callers: ${Math.round(await createsPerSecond(level, 'c', COUNT, CONCURRENCY))} creates/s`);
  console.log(`level store, 1 caller (await each): ${Math.round(await createsPerSecond(level, 's', Math.min(COUNT, 5000), 1))} creates/s`);

  const [list, listMs] = await timed(() => level.list(R.configmaps));
  const [, nsMs] = await timed(() => level.list(R.configmaps, 'ns-3'));
  const [, getMs] = await timed(async () => {
    for (let i = 0; i < 1000; i++) await level.get(R.configmaps, `ns-${i % 10}`, `c-${i}`);
  });
  console.log(`list of ${list.items.length}: ${listMs.toFixed(1)} ms; one namespace: ${nsMs.toFixed(1)} ms; get: ${((getMs * 1000) / 1000).toFixed(1)} µs`);
  await level.close();

  const [reopened, openMs] = await timed(async () => {
    const s = new LevelStore({ path: storeDir });
    await s.open();
    return s;
  });
  console.log(`reopen with ${reopened.count()} objects: ${openMs.toFixed(0)} ms`);
  await reopened.close();

  // Memory for 10,000 objects, in a fresh process as a server would hold them after a restart.
  const small = path.join(dir, 'small');
  const empty = path.join(dir, 'empty');
  const seed = new LevelStore({ path: small });
  await seed.open();
  await createsPerSecond(seed, 'r', 10_000, CONCURRENCY);
  await seed.close();
  const blank = new LevelStore({ path: empty });
  await blank.open();
  await blank.close();
  const measure = (p: string) =>
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', process.argv[1]!, '--rss', p], { encoding: 'utf8' })) as { count: number; rss: number; heapUsed: number };
  const base = measure(empty);
  const full = measure(small);
  console.log(`fresh process, empty store: RSS ${mib(base.rss)}, heap ${mib(base.heapUsed)}`);
  console.log(`fresh process, ${full.count} objects: RSS ${mib(full.rss)} (+${mib(full.rss - base.rss)}), heap ${mib(full.heapUsed)} (+${mib(full.heapUsed - base.heapUsed)})`);
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}

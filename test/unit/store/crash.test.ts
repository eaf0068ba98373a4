// kill -9 in the middle of a write storm: every write the store acknowledged must be there after a
// reopen, and the resourceVersion counter must agree with the objects (never behind them).

import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { R } from '../../../src/api/resources.js';
import { LevelStore } from '../../../src/store/level-store.js';
import type { StoreOpenError } from '../../../src/store/data-dir.js';
import { configMap, tempDir } from '../../helpers/store-fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const writer = path.join(root, 'test/helpers/store-writer.ts');

/**
 * Runs the writer until it has acknowledged `acks` creates and `whileRunning` (started once the writer
 * is ready) has finished, SIGKILLs it, and returns every complete line it printed.
 */
function runAndKill(dir: string, prefix: string, acks: number, whileRunning: () => Promise<void>, registerKill: (kill: () => void) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, prefix], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    registerKill(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    let seen = 0;
    let sideDone = false;
    let sideStarted = false;
    const maybeKill = () => {
      if (seen >= acks && sideDone) child.kill('SIGKILL');
    };
    child.stdout.setEncoding('utf8');
    // Read slowly now and then, as a loaded machine does: the writer's lines then queue in the child, and
    // what it says must still be true when it is killed (a delete's intent line used to be lost that way).
    const slow = setInterval(() => {
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 80);
    }, 100);
    child.on('close', () => clearInterval(slow));
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      seen += chunk.split('\nack create').length - 1;
      if (!sideStarted && out.startsWith('ready')) {
        sideStarted = true;
        whileRunning().then(
          () => {
            sideDone = true;
            maybeKill();
          },
          (e) => {
            child.kill('SIGKILL');
            reject(e);
          },
        );
      }
      maybeKill();
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited with ${code ?? signal}: ${err}`));
      // A line cut off by the kill was never a complete ack.
      resolve(out.split('\n').slice(0, -1));
    });
  });
}

test('every acknowledged write survives kill -9 and the rv counter stays consistent', async (t) => {
  const dir = path.join(await tempDir(t), 'store');
  let killChild = () => {};
  t.teardown(() => killChild());

  // Twice: the second writer starts from a store that already went through one crash.
  let expectedStartRv = '1';
  for (const round of [1, 2]) {
    // While the writer holds the store, a second server is turned away with a clear message.
    const lockedOut = async () => {
      const err = await t.throwsAsync(new LevelStore({ path: dir }).open());
      t.is((err as StoreOpenError).problem, 'locked');
      t.regex(err!.message, /^data dir .* is locked: is another kubelite server running\?/);
    };
    const lines = await runAndKill(dir, `r${round}-`, 3000, lockedOut, (k) => (killChild = k));
    t.is(lines[0], `ready ${expectedStartRv}`);
    const created = new Map<string, number>();
    const deleted = new Set<string>();
    const mayBeDeleted = new Set<string>();
    let lastCounter = { rv: 0, n: 0 };
    let maxAcked = 0;
    for (const line of lines.slice(1)) {
      const [what, op, name, rv, n] = line.split(' ');
      if (what === 'intent') {
        mayBeDeleted.add(name!);
        continue;
      }
      maxAcked = Math.max(maxAcked, Number(rv));
      if (op === 'create') created.set(name!, Number(rv));
      else if (op === 'delete') deleted.add(name!);
      else lastCounter = { rv: Number(rv), n: Number(n) };
    }
    t.true(deleted.size > 0);
    t.true(created.size >= 3000, `only ${created.size} acks`);

    const store = new LevelStore({ path: dir });
    await store.open();
    const { items } = await store.list(R.configmaps);
    const stored = new Map(items.map((o) => [o.metadata.name!, o]));
    // Each loss says what it was, so a failure can be told apart from a mistake of this test.
    const lost: string[] = [];
    for (const [name, rv] of created) {
      const obj = stored.get(name);
      if (deleted.has(name)) {
        if (obj) lost.push(`${name}: delete acknowledged, still stored (rv ${obj.metadata.resourceVersion})`);
      } else if (!obj) {
        if (!mayBeDeleted.has(name)) lost.push(`${name}: create acknowledged at rv ${rv}, not stored`);
      } else if (obj.metadata.resourceVersion !== String(rv)) {
        lost.push(`${name}: create acknowledged at rv ${rv}, stored at rv ${obj.metadata.resourceVersion}`);
      }
    }
    t.deepEqual(lost.slice(0, 10), [], `round ${round}: ${lost.length} acknowledged creates or deletes lost (current rv ${store.currentResourceVersion()}, newest ack ${maxAcked}, ${lines.length} lines)`);
    const counter = stored.get('counter')!;
    t.true(Number(counter.metadata.resourceVersion) >= lastCounter.rv);
    t.true(Number((counter.data as { n: string }).n) >= lastCounter.n);

    // No two objects share an rv; the counter is at or past every stored object and every acknowledged write.
    const rvs = items.map((o) => Number(o.metadata.resourceVersion));
    t.is(new Set(rvs).size, rvs.length);
    const current = Number(store.currentResourceVersion());
    t.true(current >= Math.max(...rvs) && current >= maxAcked, `counter ${current} behind objects or acks`);
    const next = await store.create(R.configmaps, configMap('default', `after-crash-${round}`));
    t.is(next.metadata.resourceVersion, String(current + 1));
    await store.close();
    expectedStartRv = String(next.metadata.resourceVersion);
  }
});

// Child process for the kill -9 test: writes to a LevelStore as fast as it can and prints one line
// per acknowledged write, so the parent knows exactly what the store promised before it was killed.
//   ready <rv>
//   ack create <name> <rv>
//   ack update counter <rv> <n>
//   intent delete <name>        (before the delete is issued: it may land without an ack)
//   ack delete <name> <rv>

import { R } from '../../src/api/resources.js';
import { LevelStore } from '../../src/store/level-store.js';
import { kilobyteConfigMap } from './store-fixtures.js';

const [dir, prefix = 'cm-'] = process.argv.slice(2);
if (!dir) throw new Error('usage: store-writer.ts <store dir> [name prefix]');

const store = new LevelStore({ path: dir });
await store.open();
// A write to the pipe reaches the kernel at once only while the pipe has room. When the parent reads
// slowly (a loaded machine), Node queues the line in this process, and a kill -9 loses it. For an ack
// that is harmless: the parent checks one write less. A delete's intent must be in the pipe before the
// delete is issued, though, or a delete that lands looks like a lost create: that one waits (sayNow).
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const sayNow = (line: string): Promise<void> =>
  new Promise((resolve, reject) => process.stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve())));
say(`ready ${store.currentResourceVersion()}`);

const counter = kilobyteConfigMap('default', 'counter');
if (!(await store.get(R.configmaps, 'default', 'counter'))) await store.create(R.configmaps, counter);

for (let i = 0, n = 0; ; ) {
  const wave: Promise<void>[] = [];
  for (let k = 0; k < 16; k++) {
    const name = `${prefix}${i++}`;
    wave.push(store.create(R.configmaps, kilobyteConfigMap('default', name)).then((o) => say(`ack create ${name} ${o.metadata.resourceVersion}`)));
  }
  const value = ++n;
  wave.push(
    store
      .update(R.configmaps, { ...counter, data: { n: String(value) } })
      .then((o) => say(`ack update counter ${o.metadata.resourceVersion} ${value}`)),
  );
  if (i >= 32) {
    // The first object of the previous wave, so the newest write is sometimes a delete: the counter
    // must then be ahead of every stored object.
    const victim = `${prefix}${i - 32}`;
    wave.push(
      sayNow(`intent delete ${victim}`)
        .then(() => store.delete(R.configmaps, 'default', victim))
        .then((o) => say(`ack delete ${victim} ${o.metadata.resourceVersion}`)),
    );
  }
  await Promise.all(wave);
}

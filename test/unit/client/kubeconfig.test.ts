// A kubeconfig naming several servers of one cluster, and a client that moves to the next when one
// is gone.

import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConnection, renderKubeconfig } from '../../../src/client/kubeconfig.js';
import { HttpClient } from '../../../src/client/http-client.js';
import { R } from '../../../src/api/resources.js';

function write(t: import('ava').ExecutionContext, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-kc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(file, text);
  return file;
}

test('one context per server, sharing the CA and user; the others become fallbacks of the current one', async (t) => {
  const text = renderKubeconfig({ server: 'https://10.0.0.1:6443', caPem: 'CA', token: 'tok', name: 'a', others: [{ name: 'b', server: 'https://10.0.0.2:6443' }, { name: 'a', server: 'https://10.0.0.1:6443' }] });
  const file = write(t, text);
  const a = loadConnection(file);
  t.is(a.server, 'https://10.0.0.1:6443');
  t.deepEqual(a.fallbackServers, ['https://10.0.0.2:6443']);
  t.deepEqual(loadConnection(file, 'b').fallbackServers, ['https://10.0.0.1:6443']);
  // A context with another CA or other credentials is another cluster: never a fallback.
  const doc = JSON.parse(JSON.stringify((await import('yaml')).parse(text)));
  doc.users.push({ name: 'someone-else', user: { token: 'other' } });
  doc.clusters.push({ name: 'c', cluster: { server: 'https://10.0.0.3:6443', 'certificate-authority-data': doc.clusters[0].cluster['certificate-authority-data'] } });
  doc.contexts.push({ name: 'c', context: { cluster: 'c', user: 'someone-else' } });
  t.deepEqual(loadConnection(write(t, JSON.stringify(doc))).fallbackServers, ['https://10.0.0.2:6443']);
  const single = loadConnection(write(t, renderKubeconfig({ server: 'https://h:1', caPem: 'CA', token: 't' })));
  t.is(single.fallbackServers, undefined);
});

test('a client whose server refuses connections moves to the next server of the cluster', async (t) => {
  const srv = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', resourceVersion: '1' } }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  // A port nothing listens on: take one, then free it.
  const dead = await new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
  const live = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const client = new HttpClient({ server: `http://127.0.0.1:${dead}`, fallbackServers: [live] });
  t.teardown(() => client.close());
  const ns = await client.get(R.namespaces, undefined, 'default');
  t.is(ns.metadata.name, 'default');
  t.is(client.server, live);
  const alone = new HttpClient({ server: `http://127.0.0.1:${dead}` });
  t.teardown(() => alone.close());
  await t.throwsAsync(alone.get(R.namespaces, undefined, 'default'), { message: /was refused/ });
});

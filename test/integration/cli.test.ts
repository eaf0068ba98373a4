// The foundation end to end: a real `kubelite server` process on a temporary data dir and port, driven
// by the `kubelite` CLI — apply examples/, list, describe, delete, restart (state intact), kill -9
// (state intact), 401 without the token, and clear errors for bad manifests.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startTestServer, cleanupInstance, type TestServer } from '../helpers/server.js';
import { HttpClient } from '../../src/client/http-client.js';
import { loadConnection } from '../../src/client/kubeconfig.js';
import { R } from '../../src/api/resources.js';

let server: TestServer;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-cli-'));

test.before(async () => {
  // Only the API: this file is about the store, the API and the CLI, not Pods or the data plane.
  server = await startTestServer({ slot: 1, args: ['--disable', 'agent,scheduler,controllers,proxy,dns,ingress', '--service-node-port-range', '30000-32767'] });
});

test.after.always(async () => {
  await server?.stop();
  cleanupInstance(server);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.serial('apply examples/ creates every object, a second apply says unchanged', async (t) => {
  const first = await server.cli(['apply', '-f', path.join(ROOT, 'examples')]);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /^deployment\.apps\/my-backend created$/m);
  t.regex(first.stdout, /^service\/my-backend created$/m);
  t.regex(first.stdout, /^service\/my-backend-nodeport created$/m);
  t.regex(first.stdout, /^service\/stripe created$/m);
  const second = await server.cli(['apply', '-f', path.join(ROOT, 'examples')]);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, /^deployment\.apps\/my-backend unchanged$/m);
  t.regex(second.stdout, /^service\/stripe unchanged$/m);
});

test.serial('a changed manifest is configured, and the change is stored', async (t) => {
  const file = path.join(tmp, 'cm.yaml');
  fs.writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n  b: "2"\n');
  t.regex((await server.cli(['apply', '-f', file])).stdout, /configmap\/settings created/);
  fs.writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n');
  const r = await server.cli(['apply', '-f', file]);
  t.regex(r.stdout, /configmap\/settings configured/);
  const cm = await server.client.get<{ data: Record<string, string> } & import('../../src/api/types.js').KObject>(R.configmaps, 'default', 'settings');
  t.deepEqual(cm.data, { a: '1' }, 'a key removed from the file is removed from the object (three-way apply)');
});

test.serial('get prints kubectl columns; -o yaml/json/name and -A work', async (t) => {
  const svc = await server.cli(['get', 'svc']);
  t.is(svc.code, 0, svc.stderr);
  const header = svc.stdout.split('\n')[0];
  t.regex(header, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
  t.regex(svc.stdout, /^stripe\s+ExternalName\s+<none>\s+api\.stripe\.com\s+<none>\s+\d+s$/m);
  const deploy = await server.cli(['get', 'deploy', 'my-backend']);
  t.regex(deploy.stdout.split('\n')[0], /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
  const wide = await server.cli(['get', 'deploy', '-o', 'wide']);
  t.regex(wide.stdout.split('\n')[0], /CONTAINERS\s+IMAGES\s+SELECTOR$/);
  t.regex(wide.stdout, /kubelite\/echo:1\s+app=my-backend/);
  const yaml = await server.cli(['get', 'svc', 'stripe', '-o', 'yaml']);
  t.regex(yaml.stdout, /externalName: api\.stripe\.com/);
  const json = JSON.parse((await server.cli(['get', 'svc', '-o', 'json'])).stdout);
  t.is(json.kind, 'List');
  t.true(json.items.length >= 3);
  const names = await server.cli(['get', 'svc', '-o', 'name']);
  t.regex(names.stdout, /^service\/stripe$/m);
  const all = await server.cli(['get', 'ns', '-A']);
  t.regex(all.stdout, /^kube-system\s+Active/m);
  const short = await server.cli(['get', 'po']);
  t.is(short.code, 0);
  t.regex(short.stderr, /No resources found in default namespace/);
  const labels = await server.cli(['get', 'deploy', '--show-labels']);
  t.regex(labels.stdout, /LABELS\n(.*\n)*my-backend .*app=my-backend/);
});

test.serial('describe shows the object and says when a Service has no endpoints', async (t) => {
  const r = await server.cli(['describe', 'svc', 'my-backend']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Name:\s+my-backend$/m);
  t.regex(r.stdout, /^Selector:\s+app=my-backend$/m);
  t.regex(r.stdout, /^Endpoints:\s+<none>/m);
  const d = await server.cli(['describe', 'deploy', 'my-backend']);
  t.regex(d.stdout, /^Replicas:\s+3 desired/m);
});

test.serial('bad input: malformed YAML names file, document and line; unknown kind lists kinds; invalid field names its path; valid documents still apply', async (t) => {
  const file = path.join(tmp, 'mixed.yaml');
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good-one\n',
      'apiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad-port\nspec:\n  ports:\n    - port: 70000\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n',
    ].join('---\n'),
  );
  const r = await server.cli(['apply', '-f', file]);
  t.is(r.code, 1);
  t.regex(r.stdout, /configmap\/good-one created/);
  t.regex(r.stderr, /no matches for kind "Widget" in version "v1" \(kinds served: .*Deployment \(apps\/v1\)/);
  t.regex(r.stderr, /spec\.ports\[0\]\.port: Invalid value: 70000: must be between 1 and 65535, inclusive/);
  t.regex(r.stderr, /mixed\.yaml, document 4, line \d+: invalid YAML/);
  // Nothing half-written: the invalid Service does not exist.
  const missing = await server.cli(['get', 'svc', 'bad-port']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /not found/);
});

test.serial('401 without the token', async (t) => {
  const conn = loadConnection(server.kubeconfig);
  const anon = new HttpClient({ ...conn, token: undefined });
  const r = await anon.raw('GET', '/api/v1/namespaces/default/pods');
  anon.close();
  t.is(r.status, 401);
  t.is(JSON.parse(r.body).reason, 'Unauthorized');
});

test.serial('restart: objects are intact; kill -9: objects are intact', async (t) => {
  const before = await server.client.get(R.deployments, 'default', 'my-backend');
  await server.stop();
  await server.restart();
  const after = await server.client.get(R.deployments, 'default', 'my-backend');
  t.is(after.metadata.uid, before.metadata.uid);
  t.is(after.metadata.resourceVersion, before.metadata.resourceVersion);
  await server.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'just-before-kill', namespace: 'default' } });
  await server.stop('SIGKILL');
  await server.restart();
  t.truthy(await server.client.get(R.configmaps, 'default', 'just-before-kill'));
  t.is((await server.client.get(R.deployments, 'default', 'my-backend')).metadata.uid, before.metadata.uid);
});

test.serial('delete by file and by kind/name', async (t) => {
  const byFile = await server.cli(['delete', '-f', path.join(ROOT, 'examples/05-service-externalname.yaml')]);
  t.is(byFile.code, 0, byFile.stderr);
  t.regex(byFile.stdout, /service "stripe" deleted/);
  const byName = await server.cli(['delete', 'deploy', 'my-backend']);
  t.is(byName.code, 0, byName.stderr);
  t.regex(byName.stdout, /deployment\.apps "my-backend" deleted/);
  const gone = await server.cli(['get', 'deploy', 'my-backend']);
  t.is(gone.code, 1);
  const notFound = await server.cli(['delete', 'svc', 'nope']);
  t.is(notFound.code, 1);
  t.regex(notFound.stderr, /Error from server \(NotFound\): services "nope" not found/);
});

test.serial('a foreign data dir is refused with a clear error and left untouched', async (t) => {
  const foreign = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-foreign-'));
  fs.writeFileSync(path.join(foreign, 'precious.txt'), 'keep me');
  const { spawnSync } = await import('node:child_process');
  const bin = process.env.KUBELITE_TEST_DIST === '1' ? [path.join(ROOT, 'dist/cli/main.js')] : ['--import', 'tsx', path.join(ROOT, 'cli/main.ts')];
  const r = spawnSync(process.execPath, [...bin, 'server', '--data-dir', foreign, '--api-port', '0', '--instance', 't1x'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 1);
  t.regex(r.stderr, /is not a kubelite data dir/);
  t.is(fs.readFileSync(path.join(foreign, 'precious.txt'), 'utf8'), 'keep me');
  fs.rmSync(foreign, { recursive: true, force: true });
});

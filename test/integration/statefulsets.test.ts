// StatefulSets with stable names and volumes, on the real engine, driven with the real kubectl (slot 19):
// a headless Service and a 3-replica StatefulSet with volumeClaimTemplates — pods start in ordinal
// order, each gets its own local-path volume, `web-1.nginx` resolves from another Pod, a file written
// in web-1's volume survives `kubectl delete pod web-1`; rollout status/history/undo, scale down
// (claims retained), a claim for a missing StorageClass (Pending + Event), a StatefulSet whose Service
// does not exist yet, and a volume directory deleted by hand (the Pod does not start; FailedMount says
// why). Needs root and Docker; everything of instance t19 is removed afterwards.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lookupOnce } from '../../src/dns/lookup-client.js';
import { startTestServer, waitFor, waitForServiceRoute, type TestServer } from '../helpers/server.js';
import { dockerAvailable } from '../helpers/docker.js';
import { kubectlFor, normalizeTable, tableRows, type Kubectl } from '../helpers/kubectl.js';
import { withKubectl } from '../helpers/kubectl-suite.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 19;

withKubectl('StatefulSets', suite);

function suite(bin: string): void {
  let server: TestServer | undefined;
  let k: Kubectl;
  let tmp: string;

  test.before(async () => {
    if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
    server = await startTestServer({ slot: SLOT, args: ['--disable', 'ingress'] });
    await waitForServiceRoute(server.slot);
    k = kubectlFor(server.kubeconfig, bin);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-sts-'));
  });

  test.after.always(async () => {
    await tearDownServer(server, SLOT);
    k?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const apply = async (name: string, text: string) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, text);
    const r = await k(['apply', '-f', p]);
    if (r.code !== 0) throw new Error(`kubectl apply ${name}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await k([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  type PodJ = { metadata: { name: string; creationTimestamp: string; uid: string }; spec: { hostname?: string; subdomain?: string; volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] }; status: { podIP?: string; phase?: string; conditions?: { type: string; status: string; lastTransitionTime: string }[] } };

  const WEB = `apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 8080, name: http}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: kubelite/echo:1
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`;

  test.serial('a 3-replica StatefulSet starts web-0, web-1, web-2 in order, each with its own bound claim', async (t) => {
    t.is(await apply('web.yaml', WEB), 'service/nginx created\nstatefulset.apps/web created\n');
    const st = await k(['rollout', 'status', 'sts/web', '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(st.code, 0, st.stderr + st.stdout);
    t.regex(st.stdout, /partitioned roll out complete: 3 new pods have been updated\.\.\.\n$/);
    const pods = (await json<{ items: PodJ[] }>(['get', 'pods', '-l', 'app=web'])).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    t.deepEqual(pods.map((p) => p.metadata.name), ['web-0', 'web-1', 'web-2']);
    // OrderedReady: each pod is created only once the one before it is Ready (timestamps have 1 s resolution).
    for (let i = 1; i < 3; i++) {
      const readyBefore = pods[i - 1].status.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime;
      t.true(Date.parse(pods[i].metadata.creationTimestamp) >= Date.parse(readyBefore), `web-${i} created ${pods[i].metadata.creationTimestamp}, web-${i - 1} ready ${readyBefore}`);
    }
    for (const p of pods) {
      t.is(p.spec.hostname, p.metadata.name);
      t.is(p.spec.subdomain, 'nginx');
      t.is(p.spec.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName, `data-${p.metadata.name}`);
    }
    const sts = await k(['get', 'sts', 'web']);
    t.is(normalizeTable(sts.stdout), 'NAME  READY  AGE\nweb  3/3  AGE');
    const pvc = await k(['get', 'pvc']);
    const rows = tableRows(pvc.stdout);
    t.deepEqual(rows[0], ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    t.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[3], r[4], r[5]]), ['web-0', 'web-1', 'web-2'].map((n) => [`data-${n}`, 'Bound', '1Gi', 'RWO', 'local-path']));
    const pv = await k(['get', 'pv']);
    const pvRows = tableRows(pv.stdout);
    t.deepEqual(pvRows[0], ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
    t.deepEqual(pvRows.slice(1).map((r) => r[5]).sort(), ['default/data-web-0', 'default/data-web-1', 'default/data-web-2']);
    const d = await k(['describe', 'sts', 'web']);
    t.is(d.code, 0, d.stderr);
    t.regex(d.stdout, /Pods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed/);
    const dc = await k(['describe', 'pvc', 'data-web-0']);
    t.regex(dc.stdout, /Used By:\s+web-0/);
    const ex = await k(['explain', 'sts.spec.volumeClaimTemplates']);
    t.is(ex.code, 0, ex.stderr);
    t.regex(ex.stdout, /KIND:\s+StatefulSet/);
    const sc = await k(['get', 'sc']);
    t.regex(normalizeTable(sc.stdout), /^local-path \(default\)  kubelite\.io\/local-path  Delete  WaitForFirstConsumer  false  AGE$/m);
  });

  test.serial('web-1.nginx resolves from another Pod (Endpoints hostnames, DNS A record)', async (t) => {
    const client = await k(['run', 'client', '--image=kubelite/echo:1', '--restart=Never', '--command', '--', 'sleep', '3600']);
    t.is(client.code, 0, client.stderr);
    await waitFor(async () => (await k(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 60_000, 'the client pod running');
    const ip = (await k(['get', 'pod', 'web-1', '-o', 'jsonpath={.status.podIP}'])).stdout;
    t.regex(ip, /^10\.200\.19\.\d+$/);
    const hostnames = await k(['get', 'endpoints', 'nginx', '-o', 'jsonpath={.subsets[0].addresses[*].hostname}']);
    t.deepEqual(hostnames.stdout.split(' ').sort(), ['web-0', 'web-1', 'web-2']);
    // ping resolves through the libc resolver, with the Pod's search list (web-1.nginx -> web-1.nginx.default.svc.cluster.local).
    const ping = await k(['exec', 'client', '--', 'ping', '-c', '1', '-W', '2', 'web-1.nginx']);
    t.is(ping.code, 0, ping.stderr + ping.stdout);
    t.regex(ping.stdout, new RegExp(`^PING web-1\\.nginx \\(${ip.replace(/\./g, '\\.')}\\)`));
    const fqdn = await k(['exec', 'client', '--', 'nslookup', 'web-1.nginx.default.svc.cluster.local.']);
    t.regex(fqdn.stdout, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
    // SRV per named port of the headless Service, one target per Pod hostname.
    // (Asked from here, of the DNS server on the instance's pod bridge: busybox's nslookup prints no SRV data.)
    const srv = await lookupOnce('10.200.19.1', 53, '_http._tcp.nginx.default.svc.cluster.local', 'SRV');
    const targets = srv.answers.map((a) => (a.type === 'SRV' ? `${a.data.port} ${a.data.target}` : '')).sort();
    t.deepEqual(targets, ['web-0', 'web-1', 'web-2'].map((n) => `8080 ${n}.nginx.default.svc.cluster.local`));
    const self = await k(['exec', 'web-2', '--', 'hostname', '-f']);
    t.is(self.stdout.trim(), 'web-2.nginx.default.svc.cluster.local');
  });

  test.serial("a file written in web-1's volume is still there after kubectl delete pod web-1", async (t) => {
    const w = await k(['exec', 'web-1', '--', 'sh', '-c', 'echo kept-by-web-1 > /data/note && cat /data/note']);
    t.is(w.stdout, 'kept-by-web-1\n', w.stderr);
    const before = (await json<PodJ>(['get', 'pod', 'web-1'])).metadata.uid;
    const d = await k(['delete', 'pod', 'web-1']);
    t.is(d.code, 0, d.stderr);
    await waitFor(async () => {
      const p = await json<PodJ>(['get', 'pod', 'web-1']).catch(() => undefined);
      return p && p.metadata.uid !== before && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    }, 90_000, 'web-1 back and ready');
    const r = await k(['exec', 'web-1', '--', 'cat', '/data/note']);
    t.is(r.stdout, 'kept-by-web-1\n', r.stderr);
    // Each ordinal has its own volume.
    const other = await k(['exec', 'web-0', '--', 'ls', '/data']);
    t.is(other.stdout, '');
  });

  test.serial('rollout history and undo through ControllerRevisions', async (t) => {
    const e = await k(['set', 'env', 'sts/web', 'COLOR=blue']);
    t.is(e.code, 0, e.stderr);
    const st = await k(['rollout', 'status', 'sts/web', '--timeout=180s'], { timeoutMs: 190_000 });
    t.is(st.code, 0, st.stderr);
    await waitFor(async () => (await k(['get', 'sts', 'web', '-o', 'jsonpath={.status.updatedReplicas}/{.status.readyReplicas}'])).stdout === '3/3', 120_000, 'every pod updated and ready');
    const status = await json<{ status: { currentRevision: string; updateRevision: string } }>(['get', 'sts', 'web']);
    t.is(status.status.currentRevision, status.status.updateRevision);
    const h = await k(['rollout', 'history', 'sts/web']);
    t.deepEqual(tableRows(h.stdout.replace(/^statefulset\.apps\/web\s*\n/, '')), [['REVISION', 'CHANGE-CAUSE'], ['1', '<none>'], ['2', '<none>']]);
    const revs = await k(['get', 'controllerrevisions']);
    t.is(tableRows(revs.stdout).slice(1).filter((r) => r[1] === 'statefulset.apps/web').length, 2, revs.stdout);
    const u = await k(['rollout', 'undo', 'sts/web']);
    t.is(u.code, 0, u.stderr);
    t.is(u.stdout, 'statefulset.apps/web rolled back\n');
    await waitFor(async () => {
      const s = await json<{ spec: { template: { spec: { containers: { env?: unknown[] }[] } } }; status: { updatedReplicas?: number; readyReplicas?: number; currentRevision?: string; updateRevision?: string } }>(['get', 'sts', 'web']);
      return !s.spec.template.spec.containers[0].env && s.status.updatedReplicas === 3 && s.status.readyReplicas === 3 && s.status.currentRevision === s.status.updateRevision;
    }, 180_000, 'the rollback rolled out');
    const env = await k(['exec', 'web-0', '--', 'sh', '-c', 'echo ${COLOR:-none}']);
    t.is(env.stdout, 'none\n');
  });

  test.serial('kubectl scale sts removes the highest ordinal first and keeps its claim', async (t) => {
    const s = await k(['scale', 'sts', 'web', '--replicas=2']);
    t.is(s.code, 0, s.stderr);
    t.is(s.stdout, 'statefulset.apps/web scaled\n');
    await waitFor(async () => (await k(['get', 'pods', '-l', 'app=web', '-o', 'name'])).stdout === 'pod/web-0\npod/web-1\n', 60_000, 'web-2 gone');
    const pvc = await k(['get', 'pvc', 'data-web-2', '-o', 'jsonpath={.status.phase}']);
    t.is(pvc.stdout, 'Bound', 'persistentVolumeClaimRetentionPolicy whenScaled: Retain keeps the claim');
  });

  test.serial('a claim for a StorageClass that does not exist stays Pending with an Event saying so', async (t) => {
    await apply('fast.yaml', `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: fast-claim}
spec:
  storageClassName: fast
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 5Gi}}
`);
    const ev = await waitFor(async () => {
      const r = await k(['get', 'events', '--field-selector', 'involvedObject.name=fast-claim', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
      return r.stdout.includes('ProvisioningFailed') ? r.stdout : undefined;
    }, 30_000, 'a ProvisioningFailed event');
    t.regex(ev ?? "", /ProvisioningFailed: storageclass\.storage\.k8s\.io "fast" not found/);
    t.is((await k(['get', 'pvc', 'fast-claim', '-o', 'jsonpath={.status.phase}'])).stdout, 'Pending');
    const d = await k(['delete', 'pvc', 'fast-claim']);
    t.is(d.code, 0, d.stderr);
  });

  test.serial("a StatefulSet whose Service does not exist yet still gets its pods; DNS names come with the Service", async (t) => {
    await apply('db.yaml', `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db-hl
  replicas: 1
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: db, image: kubelite/echo:1}]
`);
    await waitFor(async () => (await k(['get', 'pod', 'db-0', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 60_000, 'db-0 running');
    await apply('db-svc.yaml', `apiVersion: v1
kind: Service
metadata: {name: db-hl}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 8080}]
`);
    const ip = (await k(['get', 'pod', 'db-0', '-o', 'jsonpath={.status.podIP}'])).stdout;
    const r = await waitFor(async () => {
      const x = await k(['exec', 'client', '--', 'nslookup', 'db-0.db-hl.default.svc.cluster.local.']);
      return x.stdout.includes(`Address: ${ip}`) ? x.stdout : undefined;
    }, 30_000, 'db-0.db-hl resolving');
    t.truthy(r);
  });

  test.serial('reclaimPolicy Delete: deleting a claim (after its Pod) removes its volume and directory', async (t) => {
    await apply('scratch.yaml', `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: scratch}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 100Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: w, image: kubelite/echo:1, volumeMounts: [{name: s, mountPath: /s}]}
  volumes: [{name: s, persistentVolumeClaim: {claimName: scratch}}]
`);
    await waitFor(async () => (await k(['get', 'pod', 'writer', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 60_000, 'writer running');
    const pvName = (await k(['get', 'pvc', 'scratch', '-o', 'jsonpath={.spec.volumeName}'])).stdout;
    const dir = (await k(['get', 'pv', pvName, '-o', 'jsonpath={.spec.hostPath.path}'])).stdout;
    t.is((await k(['exec', 'writer', '--', 'sh', '-c', 'echo x > /s/f'])).code, 0);
    t.true(fs.existsSync(path.join(dir, 'f')));
    // In use: the claim waits (pvc-protection) until its Pod is gone.
    const del = await k(['delete', 'pvc', 'scratch', '--wait=false']);
    t.is(del.code, 0, del.stderr);
    t.is((await k(['get', 'pvc', 'scratch', '-o', 'jsonpath={.metadata.finalizers}'])).stdout, '["kubernetes.io/pvc-protection"]');
    t.is((await k(['delete', 'pod', 'writer'])).code, 0);
    await waitFor(async () => (await k(['get', 'pv', pvName])).code !== 0, 60_000, 'the volume deleted');
    t.false(fs.existsSync(dir), 'the directory went with it');
    t.not((await k(['get', 'pvc', 'scratch'])).code, 0);
  });

  test.serial('a volume directory deleted by hand: the new Pod does not start, and FailedMount says why', async (t) => {
    const dir = (await k(['get', 'pv', (await k(['get', 'pvc', 'data-web-1', '-o', 'jsonpath={.spec.volumeName}'])).stdout, '-o', 'jsonpath={.spec.hostPath.path}'])).stdout;
    t.true(dir.startsWith(path.join(server!.dataDir, 'storage') + path.sep), dir);
    t.true(fs.existsSync(path.join(dir, 'note')));
    fs.rmSync(dir, { recursive: true, force: true });
    await k(['delete', 'pod', 'web-1', '--wait=true']);
    const ev = await waitFor(async () => {
      const r = await k(['get', 'events', '--field-selector', 'involvedObject.name=web-1,reason=FailedMount', '-o', 'jsonpath={.items[*].message}']);
      return r.stdout || undefined;
    }, 60_000, 'a FailedMount event for web-1');
    t.regex(ev ?? "", /MountVolume\.SetUp failed for volume "data" : the directory .* of persistent volume "pvc-[0-9a-f-]+" is missing/);
    const pod = await json<{ status: { phase: string; containerStatuses?: { ready: boolean; state: { running?: unknown } }[] } }>(['get', 'pod', 'web-1']);
    t.false(pod.status.containerStatuses?.some((c) => c.state.running) ?? false, 'no container runs on an empty stand-in');
    t.false(fs.existsSync(dir), 'the directory was not silently re-created');
  });
}

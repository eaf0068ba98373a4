// Pod + container -> Docker create options: names, labels, limits, env resolution with Kubernetes'
// errors, command/args, mounts and volume projections.

import test from 'ava';
import { appCreateOptions, containerLabels, dockerResources, sandboxCreateOptions, specHash, type HostNaming } from '../../../src/agent/container-config.js';
import { ConfigError, expandCommand, expandVars, resolveEnv, type EnvSources } from '../../../src/agent/env.js';
import { containerName, podHostname } from '../../../src/agent/names.js';
import { configMapFiles, containerMounts, MountError, safeRelative, secretFiles, volumeSources } from '../../../src/agent/volumes-plan.js';
import type { ConfigMap, Secret } from '../../../src/api/types.js';
import { container, pod, UID } from './fixtures.js';

const N: HostNaming = { containerPrefix: 'k8s-t2', instanceLabel: 'io.kubelite.instance', instanceValue: 't2', dockerNetwork: 'kubelite-t2' };

const cm = (name: string, data: Record<string, string>): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
const secret = (name: string, data: Record<string, string>): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'default' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

function sources(o: { cms?: ConfigMap[]; secrets?: Secret[] } = {}): EnvSources {
  return {
    configMap: (n) => o.cms?.find((c) => c.metadata.name === n),
    secret: (n) => o.secrets?.find((c) => c.metadata.name === n),
    podIP: '10.244.0.7',
    hostIP: '192.0.2.2',
    nodeAllocatable: { cpuMillis: 2000, memoryBytes: 4 * 2 ** 30 },
  };
}

test('container names follow dockershim and reject anything Docker could misread', (t) => {
  const ref = { namespace: 'default', name: 'web-1', uid: UID };
  t.is(containerName('k8s-t2', ref, 'app', 3), `k8s-t2_app_web-1_default_${UID}_3`);
  t.throws(() => containerName('k8s', { ...ref, name: 'a b' }, 'app', 0), { message: /invalid pod name/ });
  t.throws(() => containerName('k8s', ref, 'x/y', 0), { message: /invalid container name/ });
  t.throws(() => containerName('k8s', { ...ref, uid: '../x' }, 'app', 0), { message: /invalid pod uid/ });
});

test('the hostname is spec.hostname or the pod name, cut to a DNS label', (t) => {
  t.is(podHostname(pod()), 'web');
  t.is(podHostname(pod({ hostname: 'h1' })), 'h1');
  const long = pod({}, { metadata: { name: `${'a'.repeat(62)}-b.c`, uid: UID } });
  t.is(podHostname(long), 'a'.repeat(62));
});

test('the sandbox holds the network, the hostname, hostPorts and every label', (t) => {
  const p = pod({ containers: [container('app', { ports: [{ containerPort: 8080, hostPort: 30080, protocol: 'TCP' }] })] });
  const o = sandboxCreateOptions(N, { pod: p, attempt: 2, image: 'kubelite/pause:1', clusterDomain: 'cluster.local' });
  t.is(o.name, `k8s-t2_POD_web_default_${UID}_2`);
  t.is(o.Hostname, 'web');
  t.is(o.HostConfig?.NetworkMode, 'kubelite-t2');
  t.is(o.HostConfig?.IpcMode, 'shareable');
  t.deepEqual(o.HostConfig?.RestartPolicy, { Name: 'no' });
  t.deepEqual(o.HostConfig?.PortBindings, { '8080/tcp': [{ HostIp: '', HostPort: '30080' }] });
  t.deepEqual(o.Labels, {
    'io.kubelite.instance': 't2',
    'io.kubelite.role': 'infra',
    'io.kubernetes.pod.uid': UID,
    'io.kubernetes.pod.namespace': 'default',
    'io.kubernetes.pod.name': 'web',
    'io.kubernetes.container.name': 'POD',
    'io.kubernetes.container.restartCount': '2',
    'io.kubelite.container.hash': '',
  });
  const hn = sandboxCreateOptions(N, { pod: pod({ hostNetwork: true }), attempt: 0, image: 'p', clusterDomain: 'cluster.local' });
  t.is(hn.HostConfig?.NetworkMode, 'host');
  t.is(hn.Hostname, undefined);
  t.is(sandboxCreateOptions(N, { pod: pod({ subdomain: 'db' }), attempt: 0, image: 'p', clusterDomain: 'cluster.local' }).Domainname, 'db.default.svc.cluster.local');
});

test('app containers join the sandbox; command is the entrypoint, args the cmd', (t) => {
  const spec = container('app', { command: ['sh', '-c'], args: ['echo $(GREETING)'], workingDir: '/w', env: [{ name: 'GREETING', value: 'hi' }], securityContext: { runAsUser: 1000, capabilities: { add: ['NET_ADMIN'] } } });
  const p = pod({ containers: [spec] });
  const { env } = resolveEnv(p, spec, sources());
  const o = appCreateOptions(N, { pod: p, container: spec, restartCount: 1, sandboxId: 'abc', env, command: expandCommand(spec.command, env), args: expandCommand(spec.args, env), mounts: [{ source: '/s', target: '/t', readOnly: true }] });
  t.is(o.HostConfig?.NetworkMode, 'container:abc');
  t.is(o.HostConfig?.IpcMode, 'container:abc');
  t.deepEqual(o.HostConfig?.RestartPolicy, { Name: 'no' });
  t.deepEqual(o.Entrypoint, ['sh', '-c']);
  t.deepEqual(o.Cmd, ['echo hi']);
  t.is(o.WorkingDir, '/w');
  t.is(o.User, '1000');
  t.deepEqual(o.HostConfig?.CapAdd, ['CAP_NET_ADMIN']);
  t.deepEqual(o.Env, ['GREETING=hi']);
  t.deepEqual(o.HostConfig?.Mounts, [{ Type: 'bind', Source: '/s', Target: '/t', ReadOnly: true }]);
  t.is(o.Labels?.['io.kubernetes.container.restartCount'], '1');
  t.is(o.Labels?.['io.kubelite.container.hash'], specHash(spec));
  t.is(o.Labels?.['io.kubelite.role'], 'app');
  t.is(o.Hostname, undefined, 'a joined container must not set a hostname');
  const noCmd = appCreateOptions(N, { pod: p, container: container('app'), restartCount: 0, sandboxId: 'abc', env: [], mounts: [] });
  t.false('Entrypoint' in noCmd);
  t.false('Cmd' in noCmd);
});

test('limits: cpu -> NanoCpus, memory -> Memory without swap; requests.cpu -> shares', (t) => {
  t.deepEqual(dockerResources(container('a', { resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '250m' } } })), {
    NanoCpus: 500_000_000,
    CpuShares: 256,
    Memory: 64 * 2 ** 20,
    MemorySwap: 64 * 2 ** 20,
  });
  t.deepEqual(dockerResources(container('a', { resources: { limits: { cpu: '2' } } })), { NanoCpus: 2_000_000_000 });
  t.deepEqual(dockerResources(container('a')), {});
});

test('the spec hash ignores key order and changes with the image', (t) => {
  const a = container('a', { image: 'x:1', command: ['sh'] });
  const b = { command: ['sh'], name: 'a', imagePullPolicy: 'IfNotPresent' as const, image: 'x:1' };
  t.is(specHash(a), specHash(b));
  t.not(specHash(a), specHash({ ...a, image: 'x:2' }));
});

test('labels name the pod and the container', (t) => {
  const l = containerLabels(N, 'app', pod(), 'app', 4, 'h');
  t.is(l['io.kubernetes.pod.name'], 'web');
  t.is(l['io.kubernetes.container.name'], 'app');
  t.is(l['io.kubelite.instance'], 't2');
});

test('$(VAR) expansion: defined names, $$ escapes, unknown names stay', (t) => {
  const look = (n: string) => ({ A: 'x', B: 'y' })[n];
  t.is(expandVars('$(A)-$(B)', look), 'x-y');
  t.is(expandVars('$$(A)', look), '$(A)');
  t.is(expandVars('$(C) $ $x', look), '$(C) $ $x');
  t.is(expandVars('$(A', look), '$(A');
});

test('env: fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, envFrom with prefix, later wins', (t) => {
  const spec = container('app', {
    resources: { limits: { memory: '128Mi' } },
    envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'S_', secretRef: { name: 'sec' } }],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
      { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
      { name: 'mode', value: 'override' },
      { name: 'REF', value: 'color=$(COLOR)' },
    ],
  });
  const p = pod({ containers: [spec] }, { metadata: { name: 'web', namespace: 'default', uid: UID, labels: { app: 'shop' } } });
  const { env } = resolveEnv(p, spec, sources({ cms: [cm('cfg', { color: 'blue', mode: 'fast' })], secrets: [secret('sec', { password: 's3cret' })] }));
  const m = Object.fromEntries(env);
  t.like(m, { POD_NAME: 'web', POD_NS: 'default', POD_IP: '10.244.0.7', NODE: 'n1', APP: 'shop', MEM: '128', CPU: '2', COLOR: 'blue', PASS: 's3cret', S_password: 's3cret', mode: 'override', REF: 'color=blue' });
  // envFrom comes first, in order, then env
  t.deepEqual(env.slice(0, 3).map(([k]) => k), ['color', 'mode', 'S_password']);
});

test('env errors are worded as Kubernetes words them; optional references are skipped', (t) => {
  const withEnv = (env: NonNullable<ReturnType<typeof container>['env']>, envFrom?: ReturnType<typeof container>['envFrom']) => {
    const spec = container('app', { env, envFrom });
    return () => resolveEnv(pod({ containers: [spec] }), spec, sources({ cms: [cm('cfg', { a: '1' })], secrets: [secret('sec', { b: '2' })] }));
  };
  const e1 = t.throws(withEnv([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }]));
  t.true(e1 instanceof ConfigError);
  t.is(e1?.message, 'configmap "x" not found');
  t.is((e1 as ConfigError).reason, 'CreateContainerConfigError');
  t.throws(withEnv([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }]), { message: "couldn't find key k in ConfigMap default/cfg" });
  t.throws(withEnv([{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }]), { message: 'secret "nope" not found' });
  t.throws(withEnv([{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } }]), { message: "couldn't find key k in Secret default/sec" });
  t.throws(withEnv([], [{ configMapRef: { name: 'gone' } }]), { message: 'configmap "gone" not found' });
  t.deepEqual(withEnv([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'x', key: 'k', optional: true } } }], [{ secretRef: { name: 'gone', optional: true } }])().env, []);
});

test('volume projections: all keys, items with paths and modes, binaryData, missing keys', (t) => {
  const v = { name: 'cfg', configMap: { name: 'c', defaultMode: 0o640 } };
  const c: ConfigMap = { ...cm('c', { 'app.conf': 'x=1', b: '2' }), binaryData: { bin: Buffer.from([1, 2]).toString('base64') } };
  const files = configMapFiles(v, c);
  t.deepEqual(files.map((f) => [f.path, f.mode]), [['app.conf', 0o640], ['b', 0o640], ['bin', 0o640]]);
  t.deepEqual([...files[2].content], [1, 2]);
  const items = configMapFiles({ name: 'cfg', configMap: { name: 'c', items: [{ key: 'b', path: 'sub/dir/b.txt', mode: 0o600 }] } }, c);
  t.deepEqual(items.map((f) => [f.path, f.mode, f.content.toString()]), [['sub/dir/b.txt', 0o600, '2']]);
  t.throws(() => configMapFiles({ name: 'cfg', configMap: { name: 'c', items: [{ key: 'zz', path: 'z' }] } }, c), { message: 'MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: zz' });
  t.throws(() => configMapFiles(v, undefined), { instanceOf: MountError, message: 'MountVolume.SetUp failed for volume "cfg" : configmap "c" not found' });
  t.deepEqual(configMapFiles({ name: 'cfg', configMap: { name: 'c', optional: true } }, undefined), []);
  const s = secretFiles({ name: 's', secret: { secretName: 'sec' } }, secret('sec', { token: 'abc' }));
  t.deepEqual(s.map((f) => [f.path, f.content.toString(), f.mode]), [['token', 'abc', 0o644]]);
  t.throws(() => secretFiles({ name: 's', secret: { secretName: 'nope' } }, undefined), { message: /secret "nope" not found/ });
});

test('paths inside volumes never climb out', (t) => {
  t.is(safeRelative('a/b'), 'a/b');
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', '..data', './a']) t.is(safeRelative(bad), undefined, bad);
  const p = pod({ volumes: [{ name: 'data', emptyDir: {} }], containers: [container('app', { volumeMounts: [{ name: 'data', mountPath: '/d', subPath: '../../etc' }] })] });
  t.throws(() => containerMounts(p, 'app', volumeSources(p, '/var/lib/kubelite')), { message: /invalid subPath/ });
});

test('mounts: volume dirs under the data dir, hostPath as is, configMap/secret read-only', (t) => {
  const p = pod({
    volumes: [
      { name: 'data', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'c' } },
      { name: 'host', hostPath: { path: '/srv/x' } },
    ],
    containers: [
      container('app', {
        volumeMounts: [
          { name: 'data', mountPath: '/data', subPath: 'sub' },
          { name: 'cfg', mountPath: '/etc/cfg' },
          { name: 'host', mountPath: '/host', readOnly: true },
        ],
      }),
    ],
  });
  const m = containerMounts(p, 'app', volumeSources(p, '/var/lib/kubelite'));
  t.deepEqual(m, [
    { source: `/var/lib/kubelite/pods/${UID}/volumes/data/sub`, target: '/data', readOnly: false },
    { source: `/var/lib/kubelite/pods/${UID}/volumes/cfg`, target: '/etc/cfg', readOnly: true },
    { source: '/srv/x', target: '/host', readOnly: true },
  ]);
  const missing = pod({ containers: [container('app', { volumeMounts: [{ name: 'nope', mountPath: '/x' }] })] });
  t.throws(() => containerMounts(missing, 'app', volumeSources(missing, '/d')), { message: /volume "nope" is not defined/ });
});

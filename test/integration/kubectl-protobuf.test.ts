// Protobuf request bodies (kubectl's typed clients send them): the field tables are exactly what the
// installed kubectl was compiled with, and the decoder turns wire bytes into the JSON Go would write.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { isStatusError } from '../../src/api/errors.js';
import { decodeKubernetesProtobuf } from '../../src/server/protobuf.js';
import { kubectl132Binary, protoDescriptors, renderProtoTable } from '../helpers/kubectl.js';
import { ROOT } from '../helpers/server.js';

// ---- a minimal encoder, enough to write test bodies

const varint = (n: number | bigint): Buffer => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
};
const tag = (no: number, wire: number) => varint((no << 3) | wire);
const int = (no: number, n: number | bigint) => Buffer.concat([tag(no, 0), varint(n)]);
const bytes = (no: number, b: Buffer | string) => {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([tag(no, 2), varint(buf.length), buf]);
};
const msg = (no: number, ...parts: Buffer[]) => bytes(no, Buffer.concat(parts));
const entry = (no: number, k: string, v: Buffer | string) => msg(no, bytes(1, k), bytes(2, v));
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from('k8s\0', 'binary'), msg(1, bytes(1, apiVersion), bytes(2, kind)), bytes(2, raw), bytes(3, ''), bytes(4, '')]);

const objectMeta = (name: string, extra: Buffer[] = []) =>
  msg(1, bytes(1, name), bytes(2, ''), bytes(3, ''), bytes(4, ''), bytes(5, ''), bytes(6, ''), int(7, 0), msg(8), ...extra);

const KUBECTL_132 = kubectl132Binary();
if (KUBECTL_132) {
  test('the field tables match the descriptors compiled into the installed kubectl 1.32', (t) => {
    const rendered = renderProtoTable(protoDescriptors(KUBECTL_132));
    t.is(rendered, fs.readFileSync(path.join(ROOT, 'src/server/protobuf-fields.ts'), 'utf8'), 'regenerate src/server/protobuf-fields.ts with renderProtoTable()');
  });
} else {
  process.stderr.write('\n*** no kubectl 1.32 binary: src/server/protobuf-fields.ts is not re-checked against kubectl ***\n\n');
  // Issue #6 allows exactly this: a loud skip only when no kubectl is installed (.ci/run installs one).
  test.skip('the field tables match kubectl 1.32 — SKIPPED: no kubectl 1.32 binary installed', () => {});
}

test('a ConfigMap as kubectl create configmap sends it', (t) => {
  const raw = Buffer.concat([objectMeta('cfg', [entry(11, 'app', 'x')]), entry(2, 'a', '1'), entry(2, 'empty', ''), entry(3, 'bin', Buffer.from([0, 1, 2]))]);
  const obj = decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', raw));
  t.deepEqual(obj, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', labels: { app: 'x' } }, data: { a: '1', empty: '' }, binaryData: { bin: 'AAEC' } } as never);
});

test('Deployment: pointers keep zero, values drop it; IntOrString, Quantity and inline structs', (t) => {
  const container = Buffer.concat([
    bytes(1, 'web'),
    bytes(2, 'kubelite/echo:1'),
    bytes(3, '/bin/sh'),
    bytes(3, '-c'),
    msg(6, bytes(1, ''), int(2, 0), int(3, 8080), bytes(4, 'TCP'), bytes(5, '')),
    msg(8, entry(1, 'cpu', bytes(1, '500m'))),
    msg(10, msg(1, msg(2, bytes(1, '/healthz'), msg(2, int(1, 1), int(2, 0), bytes(3, 'http')))), int(2, 3), int(3, 0)),
  ]);
  const podSpec = Buffer.concat([msg(2, container), bytes(3, ''), int(11, 0)]);
  const spec = Buffer.concat([
    int(1, 0), // replicas: a pointer, so an explicit 0 stays
    msg(2, entry(1, 'app', 'web')),
    msg(3, msg(1, bytes(1, ''), entry(11, 'app', 'web')), msg(2, podSpec)),
    msg(4, bytes(1, 'RollingUpdate'), msg(2, msg(1, int(1, 0), int(2, 1)), msg(2, int(1, 1), bytes(3, '25%')))),
    int(5, 0), // minReadySeconds: a value, so 0 means unset
  ]);
  const obj = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', Buffer.concat([objectMeta('web'), msg(2, spec), msg(3)])));
  t.deepEqual(obj as unknown, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'kubelite/echo:1',
              command: ['/bin/sh', '-c'],
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              resources: { limits: { cpu: '500m' } },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 3 },
            },
          ],
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
    },
    status: {},
  });
});

test('Times become RFC 3339 strings; DeleteOptions decode (gracePeriodSeconds 0 kept)', (t) => {
  const ts = msg(8, int(1, 1_700_000_000), int(2, 0));
  const ns = decodeKubernetesProtobuf(envelope('v1', 'Namespace', Buffer.concat([msg(1, bytes(1, 'n'), ts)])));
  t.is(ns.metadata.creationTimestamp, '2023-11-14T22:13:20Z');
  const del = decodeKubernetesProtobuf(envelope('v1', 'DeleteOptions', Buffer.concat([int(1, 0), bytes(4, 'Background')])));
  t.deepEqual(del as unknown, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Background' });
});

test('bad bodies are 400/415 Status errors, never a crash', (t) => {
  const expectStatus = (body: Buffer, reason: string, re: RegExp) => {
    const err = t.throws(() => decodeKubernetesProtobuf(body));
    t.true(isStatusError(err, reason as never), `${reason}: ${err?.message}`);
    t.regex(err!.message, re);
  };
  expectStatus(Buffer.from('{"kind":"Pod"}'), 'BadRequest', /magic number/);
  // Custom resources have no protobuf form (as in Kubernetes): kubectl sends them as JSON.
  expectStatus(envelope('stable.example.com/v1', 'CronTab', Buffer.alloc(0)), 'UnsupportedMediaType', /CronTab \(stable\.example\.com\/v1\).*application\/json/);
  expectStatus(Buffer.concat([envelope('v1', 'ConfigMap', Buffer.alloc(0)).subarray(0, 8)]), 'BadRequest', /error decoding protobuf/);
  expectStatus(envelope('v1', 'ConfigMap', msg(1, int(1, 5))), 'BadRequest', /field 1 has wire type 0, not that of a s/);
  expectStatus(envelope('v1', 'ConfigMap', int(1, 5)), 'BadRequest', /field 1 should be length-delimited/);
  // A field this server does not know: ignored when empty, refused when it carries data.
  t.deepEqual(decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', Buffer.concat([objectMeta('x'), bytes(99, '')]))).metadata, { name: 'x' });
  expectStatus(envelope('v1', 'ConfigMap', Buffer.concat([objectMeta('x'), bytes(99, 'data')])), 'BadRequest', /field 99 of core\.v1\.ConfigMap/);
  const gz = Buffer.concat([Buffer.from('k8s\0', 'binary'), msg(1, bytes(1, 'v1'), bytes(2, 'ConfigMap')), bytes(2, 'x'), bytes(3, 'gzip')]);
  expectStatus(gz, 'UnsupportedMediaType', /contentEncoding gzip/);
});

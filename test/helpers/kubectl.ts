// The real kubectl against a test server: finding the binary, running it with only KUBECONFIG (and a
// private discovery cache) set, normalising what varies between runs (AGE, timestamps, uids), and the
// protobuf field tables src/server/protobuf-fields.ts is generated from (kubectl's own descriptors).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { readFields, type RawField } from '../../src/server/protobuf.js';
import { allSchemas, type Schema } from '../../src/api/schema/index.js';

// ---------------------------------------------------------------- finding and running kubectl

/**
 * The kubectl to test with: $KUBECTL, else the one on the PATH. On these machines `kubectl` is a
 * dispatcher that runs the build matching the server's minor version (1.32 for us).
 */
export function findKubectl(): string | undefined {
  const candidates = [process.env.KUBECTL, ...((process.env.PATH ?? '').split(':').map((d) => path.join(d, 'kubectl')))].filter(Boolean) as string[];
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The 1.32 build itself when the dispatcher has one beside it (for descriptor extraction). */
export function kubectl132Binary(): string | undefined {
  const k = findKubectl();
  if (!k) return undefined;
  const real = fs.realpathSync(k);
  const beside = path.join(path.dirname(real), 'kubectl.1.32');
  if (fs.existsSync(beside)) return beside;
  const v = spawnSync(real, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  return /"minor":\s*"32"/.test(v.stdout ?? '') ? real : undefined;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  (args: string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<KubectlResult>;
  /** Starts kubectl and returns the child (for --watch, logs -f, port-forward). */
  spawn(args: string[], env?: Record<string, string>): import('node:child_process').ChildProcessWithoutNullStreams;
  cacheDir: string;
  bin: string;
  /** Removes the private discovery cache and HOME. */
  cleanup(): void;
}

/** A kubectl bound to one kubeconfig, with its own discovery cache so runs never see each other's. */
export function kubectlFor(kubeconfig: string, bin = findKubectl()!): Kubectl {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-kubectl-cache-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-kubectl-home-'));
  const baseEnv = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: cacheDir,
  });
  const run = ((args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}) =>
    new Promise<KubectlResult>((resolve) => {
      const child = spawn(bin, args, { env: { ...baseEnv(), ...opts.env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
      });
      child.stdin.end(opts.input ?? '');
    })) as Kubectl;
  run.spawn = (args, env) => spawn(bin, args, { env: { ...baseEnv(), ...env } });
  run.cacheDir = cacheDir;
  run.bin = bin;
  run.cleanup = () => {
    for (const d of [cacheDir, home]) fs.rmSync(d, { recursive: true, force: true });
  };
  return run;
}

/** Replaces the AGE-like cells of a kubectl table (`0s`, `12m`, `3h4m`, `<invalid>`) with `AGE`, and collapses column padding. */
export function normalizeTable(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line
        .replace(/(?<=\s|^)(<invalid>|\d+d\d*h?|\d+h\d*m?|\d+m\d*s?|\d+s|\d+y\d*d?)(?=\s|$)/g, 'AGE')
        .replace(/\s{2,}/g, '  ')
        .trimEnd(),
    )
    .join('\n')
    .trim();
}

/** Rows of a kubectl table as arrays of cells (split on runs of 2+ spaces). */
export function tableRows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s{2,}/));
}

// ---------------------------------------------------------------- protobuf descriptors

interface FieldDesc {
  name: string;
  number: number;
  repeated: boolean;
  /** FieldDescriptorProto.Type */
  type: number;
  typeName: string;
  /** gogoproto.nullable=false: a Go value, not a pointer */
  nonNullable: boolean;
}

interface MessageDesc {
  fields: FieldDesc[];
  mapEntry: boolean;
}

const str = (f: RawField | undefined) => (f ? (f.value as Buffer).toString('utf8') : '');
const num = (f: RawField | undefined) => (f ? Number(f.value as bigint) : 0);

function parseMessage(buf: Buffer, prefix: string, out: Map<string, MessageDesc>): void {
  const fields = readFields(buf);
  const name = `${prefix}.${str(fields.find((f) => f.no === 1))}`;
  const desc: MessageDesc = { fields: [], mapEntry: false };
  for (const f of fields) {
    if (f.no === 2) {
      const ff = readFields(f.value as Buffer);
      const options = ff.find((x) => x.no === 8);
      // gogoproto.nullable is extension 65001 of FieldOptions.
      const nonNullable = options ? readFields(options.value as Buffer).some((o) => o.no === 65001 && o.value === 0n) : false;
      desc.fields.push({
        name: str(ff.find((x) => x.no === 1)),
        number: num(ff.find((x) => x.no === 3)),
        repeated: num(ff.find((x) => x.no === 4)) === 3,
        type: num(ff.find((x) => x.no === 5)),
        typeName: str(ff.find((x) => x.no === 6)),
        nonNullable,
      });
    } else if (f.no === 3) parseMessage(f.value as Buffer, name, out);
    else if (f.no === 7) desc.mapEntry = readFields(f.value as Buffer).some((o) => o.no === 7 && o.value === 1n);
  }
  out.set(name, desc);
}

/** Every protobuf message compiled into a Go binary (gogo keeps each file's gzipped FileDescriptorProto). */
export function protoDescriptors(binary: string): Map<string, MessageDesc> {
  const data = fs.readFileSync(binary);
  const magic = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff]);
  const out = new Map<string, MessageDesc>();
  for (let at = data.indexOf(magic); at >= 0; at = data.indexOf(magic, at + 1)) {
    let fd: Buffer;
    try {
      fd = zlib.inflateRawSync(data.subarray(at + 10, at + 10 + 4_000_000), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      continue;
    }
    let fields: RawField[];
    try {
      fields = readFields(fd);
    } catch {
      continue;
    }
    const fileName = str(fields.find((f) => f.no === 1 && f.wire === 2));
    if (!/^k8s\.io\/(api|apimachinery)\/.*generated\.proto$/.test(fileName)) continue;
    const pkg = str(fields.find((f) => f.no === 2));
    for (const f of fields) if (f.no === 4) parseMessage(f.value as Buffer, `.${pkg}`, out);
  }
  return out;
}

const SCALARS: Record<number, string> = { 1: 'f64', 2: 'f32', 3: 'i64', 4: 'u64', 5: 'i32', 6: 'u64', 7: 'u32', 8: 'b', 9: 's', 12: 'y', 13: 'u32', 15: 'i32', 16: 'i64' };
const SPECIAL_TYPES: Record<string, string> = {
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Time': 't',
  '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': 'T',
  '.k8s.io.apimachinery.pkg.api.resource.Quantity': 'q',
  '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'x',
  '.k8s.io.apimachinery.pkg.runtime.RawExtension': 'r',
  '.k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': 'r',
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Duration': 'D',
};
/** Go embedded structs serialized inline, where our schemas cannot tell (no component for the parent). */
const KNOWN_INLINE = new Set(['core.v1.Volume.volumeSource', 'core.v1.Probe.handler', 'networking.v1.IngressRule.ingressRuleValue', 'core.v1.EphemeralContainer.ephemeralContainerCommon']);
/** Go JSON names that differ from the protobuf field name. */
const KNOWN_RENAMES: Record<string, string> = { aPIGroup: 'apiGroup' };

/** The kinds whose bodies the server accepts as protobuf. */
export const PROTO_ROOTS = [
  '.k8s.io.api.core.v1.Namespace',
  '.k8s.io.api.core.v1.Node',
  '.k8s.io.api.core.v1.Pod',
  '.k8s.io.api.core.v1.Service',
  '.k8s.io.api.core.v1.Endpoints',
  '.k8s.io.api.core.v1.Event',
  '.k8s.io.api.core.v1.ConfigMap',
  '.k8s.io.api.core.v1.Secret',
  '.k8s.io.api.core.v1.Binding',
  '.k8s.io.api.apps.v1.Deployment',
  '.k8s.io.api.apps.v1.ReplicaSet',
  '.k8s.io.api.apps.v1.StatefulSet',
  '.k8s.io.api.apps.v1.DaemonSet',
  '.k8s.io.api.apps.v1.ControllerRevision',
  '.k8s.io.api.batch.v1.Job',
  '.k8s.io.api.batch.v1.CronJob',
  '.k8s.io.api.core.v1.PersistentVolumeClaim',
  '.k8s.io.api.core.v1.PersistentVolume',
  '.k8s.io.api.storage.v1.StorageClass',
  '.k8s.io.api.discovery.v1.EndpointSlice',
  '.k8s.io.api.networking.v1.Ingress',
  '.k8s.io.api.networking.v1.IngressClass',
  '.k8s.io.api.autoscaling.v1.Scale',
  '.k8s.io.api.policy.v1.Eviction',
  '.k8s.io.api.policy.v1.PodDisruptionBudget',
  '.k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler',
  '.k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler',
  '.k8s.io.api.scheduling.v1.PriorityClass',
  '.k8s.io.api.networking.v1.NetworkPolicy',
  '.k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  '.k8s.io.api.core.v1.ServiceAccount',
  '.k8s.io.api.authentication.v1.TokenRequest',
  '.k8s.io.api.authentication.v1.TokenReview',
  '.k8s.io.api.authentication.v1.SelfSubjectReview',
  '.k8s.io.api.authorization.v1.SelfSubjectAccessReview',
  '.k8s.io.api.authorization.v1.SelfSubjectRulesReview',
  '.k8s.io.api.authorization.v1.SubjectAccessReview',
  '.k8s.io.api.authorization.v1.LocalSubjectAccessReview',
  '.k8s.io.api.rbac.v1.Role',
  '.k8s.io.api.rbac.v1.ClusterRole',
  '.k8s.io.api.rbac.v1.RoleBinding',
  '.k8s.io.api.rbac.v1.ClusterRoleBinding',
];

function shortName(full: string): string {
  return full.replace(/^\.k8s\.io\.api\./, '').replace(/^\.k8s\.io\.apimachinery\.pkg\./, '');
}

function schemaComponent(full: string): Schema | undefined {
  const name = full.replace(/^\.k8s\.io\./, 'io.k8s.');
  return allSchemas()[name];
}

/** Renders src/server/protobuf-fields.ts from the descriptors of a kubectl binary. */
export function renderProtoTable(messages: Map<string, MessageDesc>, roots = PROTO_ROOTS): string {
  const lines: Record<string, string> = {};
  const queue = [...roots];
  const seen = new Set<string>();
  while (queue.length) {
    const full = queue.shift()!;
    if (seen.has(full) || SPECIAL_TYPES[full]) continue;
    seen.add(full);
    const m = messages.get(full);
    if (!m) throw new Error(`no descriptor for ${full}`);
    const props = (schemaComponent(full)?.properties ?? undefined) as Record<string, Schema> | undefined;
    const tokens: string[] = [];
    for (const f of m.fields.sort((a, b) => a.number - b.number)) {
      let type: string;
      let repeated = f.repeated;
      if (f.type === 11) {
        const target = messages.get(f.typeName);
        if (target?.mapEntry) {
          const key = target.fields.find((x) => x.number === 1)!;
          const val = target.fields.find((x) => x.number === 2)!;
          const vt = val.type === 11 ? (SPECIAL_TYPES[val.typeName] ?? shortName(val.typeName)) : SCALARS[val.type];
          if (val.type === 11 && !SPECIAL_TYPES[val.typeName]) queue.push(val.typeName);
          type = `{${SCALARS[key.type]},${vt}}`;
          repeated = false;
        } else {
          type = SPECIAL_TYPES[f.typeName] ?? shortName(f.typeName);
          if (!SPECIAL_TYPES[f.typeName]) queue.push(f.typeName);
        }
      } else {
        type = SCALARS[f.type];
        if (!type) throw new Error(`unsupported field type ${f.type} in ${full}.${f.name}`);
      }
      let json = KNOWN_RENAMES[f.name] ?? f.name;
      let inline = KNOWN_INLINE.has(`${shortName(full)}.${f.name}`);
      if (props && !(json in props)) {
        const ci = Object.keys(props).find((p) => p.toLowerCase() === f.name.toLowerCase());
        if (ci) json = ci;
        else if (f.type === 11 && !inline) {
          const child = messages.get(f.typeName);
          inline = !!child && child.fields.length > 0 && child.fields.every((c) => (KNOWN_RENAMES[c.name] ?? c.name) in props);
        }
      }
      const flags = `${repeated ? '*' : ''}${!f.nonNullable && f.type !== 11 && !repeated ? '?' : ''}${inline ? '!' : ''}`;
      tokens.push(`${json}=${f.number}:${type}${flags}`);
    }
    lines[shortName(full)] = tokens.join(' ');
  }
  const body = Object.keys(lines)
    .sort()
    .map((k) => `  '${k}': '${lines[k]}',`)
    .join('\n');
  return `// GENERATED by renderProtoTable() in test/helpers/kubectl.ts from the protobuf descriptors compiled into
// kubectl 1.32 (k8s.io/api and apimachinery generated.proto): do not edit. test/integration/kubectl-protobuf.test.ts
// regenerates it from the installed kubectl and fails when it differs.
// Format (see src/server/protobuf.ts): \`json=number:type\` with flags * repeated, ? pointer, ! inline.

export const PROTO_MESSAGES: Record<string, string> = {
${body}
};
`;
}

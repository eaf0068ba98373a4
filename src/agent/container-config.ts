// Pod + container -> Docker create options, the way dockershim/cri-dockerd build them: an infra
// container that holds the network (and IPC, UTS) namespaces and the Pod's hostname, and app
// containers that join it. Pure: the env, the mounts and the sandbox id come in resolved.

import crypto from 'node:crypto';
import type Dockerode from 'dockerode';
import type { Container, Pod } from '../api/types.js';
import { parseBytes, parseCPUMillis } from '../api/quantity.js';
import { LABELS, type ContainerRole } from './labels.js';
import { containerName, podHostname, sandboxName } from './names.js';
import type { BindMount } from './volumes-plan.js';
import { INFRA_CONTAINER_NAME } from './types.js';

export interface HostNaming {
  containerPrefix: string;
  instanceLabel: string;
  instanceValue: string;
  dockerNetwork: string;
}

/** Canonical JSON (sorted keys) so equal specs hash equally whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The kubelet's container hash: a change (a new image, say) means the container is replaced. */
export function specHash(c: Container): string {
  return crypto.createHash('sha256').update(canonical(c)).digest('hex').slice(0, 16);
}

export function containerLabels(n: HostNaming, role: ContainerRole, pod: Pod, name: string, restartCount: number, hash: string): Record<string, string> {
  return {
    [n.instanceLabel]: n.instanceValue,
    [LABELS.role]: role,
    [LABELS.podUid]: pod.metadata.uid!,
    [LABELS.podNamespace]: pod.metadata.namespace ?? 'default',
    [LABELS.podName]: pod.metadata.name!,
    [LABELS.containerName]: name,
    [LABELS.restartCount]: String(restartCount),
    [LABELS.specHash]: hash,
  };
}

function podRef(pod: Pod) {
  return { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name!, uid: pod.metadata.uid! };
}

export interface DockerResources {
  NanoCpus?: number;
  CpuShares?: number;
  Memory?: number;
  MemorySwap?: number;
}

/** limits.cpu -> NanoCpus (CFS quota), requests.cpu -> CpuShares (as the kubelet), limits.memory -> Memory without swap. */
export function dockerResources(c: Container): DockerResources {
  const out: DockerResources = {};
  const lim = c.resources?.limits ?? {};
  const req = c.resources?.requests ?? {};
  if (lim.cpu !== undefined) out.NanoCpus = parseCPUMillis(lim.cpu) * 1_000_000;
  if (req.cpu !== undefined) out.CpuShares = Math.max(2, Math.floor((parseCPUMillis(req.cpu) * 1024) / 1000));
  if (lim.memory !== undefined) {
    out.Memory = parseBytes(lim.memory);
    out.MemorySwap = out.Memory;
  }
  return out;
}

function portKey(p: { containerPort: number; protocol?: string }): string {
  return `${p.containerPort}/${(p.protocol ?? 'TCP').toLowerCase()}`;
}

export interface SandboxInput {
  pod: Pod;
  attempt: number;
  image: string;
  clusterDomain: string;
  /** The Pod IP, chosen by the agent (ipam.ts); absent: Docker chooses. */
  ip?: string;
}

export function sandboxCreateOptions(n: HostNaming, input: SandboxInput): Dockerode.ContainerCreateOptions {
  const { pod } = input;
  const hostNetwork = !!pod.spec.hostNetwork;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  if (!hostNetwork) {
    for (const c of pod.spec.containers) {
      for (const p of c.ports ?? []) {
        if (!p.hostPort) continue;
        const key = portKey(p);
        exposed[key] = {};
        (bindings[key] ??= []).push({ HostIp: p.hostIP ?? '', HostPort: String(p.hostPort) });
      }
    }
  }
  const opts: Dockerode.ContainerCreateOptions = {
    name: sandboxName(n.containerPrefix, podRef(pod), input.attempt),
    Image: input.image,
    Labels: containerLabels(n, 'infra', pod, INFRA_CONTAINER_NAME, input.attempt, ''),
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    HostConfig: {
      NetworkMode: hostNetwork ? 'host' : n.dockerNetwork,
      IpcMode: 'shareable',
      RestartPolicy: { Name: 'no' },
      PortBindings: Object.keys(bindings).length ? bindings : undefined,
      // The pause process needs next to nothing; keep it from competing with the Pod's containers.
      CpuShares: 2,
    },
  };
  if (!hostNetwork && input.ip) opts.NetworkingConfig = { EndpointsConfig: { [n.dockerNetwork]: { IPAMConfig: { IPv4Address: input.ip } } } };
  if (!hostNetwork) {
    opts.Hostname = podHostname(pod);
    if (pod.spec.subdomain) opts.Domainname = `${pod.spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${input.clusterDomain}`;
  }
  return opts;
}

export interface AppInput {
  pod: Pod;
  container: Container;
  restartCount: number;
  sandboxId: string;
  env: [string, string][];
  command?: string[];
  args?: string[];
  mounts: BindMount[];
}

type SecurityContext = {
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
};

function userOf(pod: Pod, c: Container): string | undefined {
  const sc = (c.securityContext ?? {}) as SecurityContext;
  const psc = (pod.spec.securityContext ?? {}) as SecurityContext;
  const uid = sc.runAsUser ?? psc.runAsUser;
  const gid = sc.runAsGroup ?? psc.runAsGroup;
  if (uid === undefined) return gid === undefined ? undefined : `0:${gid}`;
  return gid === undefined ? String(uid) : `${uid}:${gid}`;
}

function caps(list: string[] | undefined): string[] | undefined {
  if (!list?.length) return undefined;
  return list.filter((c) => /^[A-Za-z_]+$/.test(c)).map((c) => (c.toUpperCase().startsWith('CAP_') || c.toUpperCase() === 'ALL' ? c.toUpperCase() : `CAP_${c.toUpperCase()}`));
}

export function appCreateOptions(n: HostNaming, input: AppInput): Dockerode.ContainerCreateOptions {
  const { pod, container: c } = input;
  const sc = (c.securityContext ?? {}) as SecurityContext;
  const joined = `container:${input.sandboxId}`;
  const opts: Dockerode.ContainerCreateOptions = {
    name: containerName(n.containerPrefix, podRef(pod), c.name, input.restartCount),
    Image: c.image,
    Labels: containerLabels(n, 'app', pod, c.name, input.restartCount, specHash(c)),
    Env: input.env.map(([k, v]) => `${k}=${v}`),
    Tty: !!c.tty,
    OpenStdin: !!c.stdin,
    StdinOnce: !!c.stdinOnce,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: {
      NetworkMode: joined,
      IpcMode: joined,
      RestartPolicy: { Name: 'no' },
      Mounts: input.mounts.map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      ...dockerResources(c),
      Privileged: sc.privileged ? true : undefined,
      ReadonlyRootfs: sc.readOnlyRootFilesystem ? true : undefined,
      CapAdd: caps(sc.capabilities?.add),
      CapDrop: caps(sc.capabilities?.drop),
    },
  };
  // Kubernetes: command replaces the image's ENTRYPOINT (and then its CMD is dropped), args replace CMD.
  if (input.command) opts.Entrypoint = input.command;
  if (input.args) opts.Cmd = input.args;
  if (c.workingDir) opts.WorkingDir = c.workingDir;
  const user = userOf(pod, c);
  if (user) opts.User = user;
  // No ExposedPorts here: the sandbox owns the network (and its hostPorts); Docker refuses ports on a joined container.
  if ((pod.spec as { shareProcessNamespace?: boolean }).shareProcessNamespace) opts.HostConfig!.PidMode = joined;
  return opts;
}

// The Node object this agent keeps for its Docker host, pure: capacity from `docker info`, addresses,
// nodeInfo, and the Ready condition the heartbeat refreshes (NotReady when Docker stops answering).

import type { Condition, Node, NodeStatus } from '../api/types.js';
import { rfc3339 } from './status.js';

export const MAX_PODS = 110;

export interface DockerFacts {
  ncpu: number;
  memTotal: number;
  serverVersion: string;
  kernelVersion: string;
  operatingSystem: string;
  architecture: string;
  osType: string;
  /** Docker's root directory (containers' resolv.conf files live under it). */
  rootDir?: string;
}

export function goArch(dockerArch: string): string {
  const map: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm', i686: '386', i386: '386', s390x: 's390x', ppc64le: 'ppc64le' };
  return map[dockerArch] ?? dockerArch;
}

export interface NodeIdentity {
  name: string;
  hostname: string;
  hostIP: string;
  podCIDR: string;
  kubeletVersion: string;
  machineID?: string;
  bootID?: string;
}

export function nodeCapacity(facts: DockerFacts): Record<string, string> {
  return { cpu: String(facts.ncpu), memory: `${Math.floor(facts.memTotal / 1024)}Ki`, pods: String(MAX_PODS) };
}

export function readyCondition(prev: Condition[] | undefined, ready: boolean, message: string, now: number): Condition {
  const status = ready ? 'True' : 'False';
  const old = prev?.find((c) => c.type === 'Ready');
  const ts = rfc3339(now);
  return {
    type: 'Ready',
    status,
    reason: ready ? 'KubeletReady' : 'KubeletNotReady',
    message,
    lastHeartbeatTime: ts,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : ts,
  };
}

function pressure(prev: Condition[] | undefined, type: string, reason: string, message: string, now: number): Condition {
  const old = prev?.find((c) => c.type === type);
  const ts = rfc3339(now);
  return { type, status: 'False', reason, message, lastHeartbeatTime: ts, lastTransitionTime: old?.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : ts };
}

/**
 * NetworkUnavailable, as network plugins set it (flannel: FlannelIsUp): False while the pod bridge and
 * its Docker network are in place, True with the reason while they are lost or being rebuilt.
 */
export function networkCondition(prev: Condition[] | undefined, network: { ok: boolean; reason?: string; message?: string }, now: number): Condition {
  const status = network.ok ? 'False' : 'True';
  const old = prev?.find((c) => c.type === 'NetworkUnavailable');
  const ts = rfc3339(now);
  return {
    type: 'NetworkUnavailable',
    status,
    reason: network.ok ? 'PodBridgeUp' : (network.reason ?? 'PodNetworkLost'),
    message: network.ok ? 'the pod bridge and its Docker network are in place' : (network.message ?? 'the pod network is lost'),
    lastHeartbeatTime: ts,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : ts,
  };
}

export function nodeStatus(id: NodeIdentity, facts: DockerFacts, prev: NodeStatus | undefined, ready: { ok: boolean; message: string }, now: number, network?: { ok: boolean; reason?: string; message?: string }): NodeStatus {
  const capacity = nodeCapacity(facts);
  const conds = prev?.conditions;
  return {
    capacity,
    allocatable: { ...capacity },
    conditions: [
      ...(network ? [networkCondition(conds, network, now)] : []),
      pressure(conds, 'MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', now),
      pressure(conds, 'DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', now),
      pressure(conds, 'PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', now),
      readyCondition(conds, ready.ok, ready.message, now),
    ],
    addresses: [
      { type: 'InternalIP', address: id.hostIP },
      { type: 'Hostname', address: id.hostname },
    ],
    nodeInfo: {
      machineID: id.machineID ?? '',
      systemUUID: id.machineID ?? '',
      bootID: id.bootID ?? '',
      kernelVersion: facts.kernelVersion,
      osImage: facts.operatingSystem,
      containerRuntimeVersion: `docker://${facts.serverVersion}`,
      kubeletVersion: id.kubeletVersion,
      kubeProxyVersion: id.kubeletVersion,
      operatingSystem: facts.osType || 'linux',
      architecture: goArch(facts.architecture),
    },
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
  };
}

export function nodeObject(id: NodeIdentity, facts: DockerFacts, ready: { ok: boolean; message: string }, now: number, network?: { ok: boolean; reason?: string; message?: string }): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.name,
      labels: {
        'kubernetes.io/hostname': id.name,
        'kubernetes.io/os': facts.osType || 'linux',
        'kubernetes.io/arch': goArch(facts.architecture),
        'node-role.kubernetes.io/control-plane': '',
      },
    },
    spec: { podCIDR: id.podCIDR, podCIDRs: [id.podCIDR] },
    status: nodeStatus(id, facts, undefined, ready, now, network),
  };
}

// The cards of the road: what each node says, line by line. Pure. Every text here ends up as a DOM
// text node (never markup), so names, labels and messages are shown, never interpreted.

import type { WEndpoint, WIngress, WPod, WService } from '../wire.js';
import type { ClusterState } from './state.js';
import type { MemberState } from './membership.js';
import type { GNode, Line, Tone } from './road.js';
import { age, dashedIP } from './format.js';

export interface GroupKey {
  key: string;
  kind: string;
  name: string;
  namespace: string;
}

export interface GroupInfo extends GroupKey {
  pods: WPod[];
}

/** The group a Pod is drawn in: its Deployment (through its ReplicaSet), else its controller; none for a bare Pod. */
export function groupOf(p: WPod, state: ClusterState): GroupKey | undefined {
  const owner = p.meta.owner;
  if (!owner) return undefined;
  const ns = p.meta.namespace;
  if (owner.kind === 'ReplicaSet') {
    const rs = state.replicasets.get(`ReplicaSet/${ns}/${owner.name}`);
    if (rs?.meta.owner?.kind === 'Deployment') return { key: `${ns}/Deployment/${rs.meta.owner.name}`, kind: 'Deployment', name: rs.meta.owner.name, namespace: ns };
  }
  return { key: `${ns}/${owner.kind}/${owner.name}`, kind: owner.kind, name: owner.name, namespace: ns };
}

const BAD_WAITING = new Set(['CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff', 'CreateContainerError', 'CreateContainerConfigError', 'RunContainerError', 'InvalidImageName', 'ErrImageNeverPull']);

export type PodState = 'ready' | 'notready' | 'pending' | 'terminating' | 'failed' | 'succeeded';

export function podState(p: WPod): PodState {
  if (p.meta.deleting) return 'terminating';
  if (p.phase === 'Failed') return 'failed';
  if (p.phase === 'Succeeded') return 'succeeded';
  if (p.containers.some((c) => c.state === 'terminated' || (c.state === 'waiting' && c.reason && BAD_WAITING.has(c.reason)))) return 'failed';
  if (p.ready) return 'ready';
  if (p.phase === 'Pending' || !p.phase) return 'pending';
  return 'notready';
}

const POD_TONE: Record<PodState, Tone> = { ready: 'ok', notready: 'warn', pending: 'idle', terminating: 'bad', failed: 'bad', succeeded: 'idle' };

/** kubectl's STATUS column, roughly: the most telling word for the Pod. */
export function podStatusText(p: WPod): string {
  if (p.meta.deleting) return 'Terminating';
  for (const c of p.containers) if (c.state === 'waiting' && c.reason && c.reason !== 'ContainerCreating') return c.reason;
  for (const c of p.containers) if (c.state === 'terminated') return c.reason ?? 'Terminated';
  if (p.phase === 'Running') return p.ready ? 'Running, Ready' : 'Running, not Ready';
  if (p.phase === 'Pending' && p.containers.some((c) => c.reason === 'ContainerCreating')) return 'ContainerCreating';
  return p.phase ?? 'Pending';
}

function revisionOf(p: WPod, state: ClusterState): string | undefined {
  if (p.meta.owner?.kind !== 'ReplicaSet') return undefined;
  return state.replicasets.get(`ReplicaSet/${p.meta.namespace}/${p.meta.owner.name}`)?.revision;
}

export function podNode(p: WPod, state: ClusterState, now: number, group?: GroupInfo): GNode {
  const st = podState(p);
  const restarts = p.containers.reduce((n, c) => n + c.restarts, 0);
  const rev = revisionOf(p, state);
  const owner = p.meta.owner ? `${p.meta.owner.kind} ${p.meta.owner.name}${rev ? ` (rev ${rev})` : ''}` : 'no owner (a bare Pod)';
  const lines: Line[] = [
    { text: `${p.ip ?? 'no IP yet'} · ${p.node ?? 'not scheduled'}` },
    { text: `restarts ${restarts} · age ${age(p.meta.created, now)}`, tone: restarts > 0 ? 'warn' : undefined },
    { text: owner, title: `owner: ${owner}` },
  ];
  for (const c of p.containers) {
    const bad = c.state === 'terminated' || (c.state === 'waiting' && !!c.reason && BAD_WAITING.has(c.reason));
    const tone: Tone = c.ready ? 'ok' : c.state === 'running' ? 'warn' : bad ? 'bad' : 'idle';
    const what = c.state === 'running' ? (c.ready ? 'running, ready' : 'running, not ready') : c.state === 'unknown' ? 'not started yet' : `${c.state}${c.reason ? `: ${c.reason}` : ''}`;
    lines.push({ text: `▣ ${c.name} ${what}`, tone, title: `${c.name} (${c.image}): ${what}${c.message ? ` — ${c.message}` : ''}` });
  }
  const node: GNode = {
    id: `pod:${p.meta.namespace}/${p.meta.name}`,
    kind: 'pod',
    column: 2,
    title: p.meta.name,
    subtitle: podStatusText(p),
    tone: POD_TONE[st],
    state: st,
    lines,
    ref: { kind: 'Pod', namespace: p.meta.namespace, name: p.meta.name },
  };
  if (group) node.group = { key: group.key, collapsed: false };
  return node;
}

export function groupNode(g: GroupInfo, collapsed: boolean, state: ClusterState, now: number): GNode {
  const counts: Partial<Record<PodState, number>> = {};
  for (const p of g.pods) counts[podState(p)] = (counts[podState(p)] ?? 0) + 1;
  const order: PodState[] = ['ready', 'notready', 'pending', 'terminating', 'failed', 'succeeded'];
  const summary = order.filter((s) => counts[s]).map((s) => `${counts[s]} ${s === 'notready' ? 'not ready' : s}`);
  const lines: Line[] = [{ text: summary.join(' · ') || 'no Pods', tone: counts.terminating || counts.failed ? 'bad' : counts.notready || counts.pending ? 'warn' : 'ok' }];
  if (g.kind === 'Deployment') {
    const d = state.deployments.get(`Deployment/${g.namespace}/${g.name}`);
    if (d) lines.push({ text: `desired ${d.replicas} · updated ${d.updated} · available ${d.available}`, tone: d.updated < d.replicas ? 'warn' : undefined });
  }
  // Pods by ReplicaSet revision, newest first: a rolling update shows as "rev 3: 2 · rev 2: 1".
  const byRev = new Map<string, number>();
  for (const p of g.pods) {
    const rev = revisionOf(p, state) ?? p.meta.owner?.name ?? '?';
    byRev.set(rev, (byRev.get(rev) ?? 0) + 1);
  }
  const revs = [...byRev].sort((a, b) => Number(b[0]) - Number(a[0]));
  if (g.kind === 'Deployment' && revs.length) lines.push({ text: revs.map(([r, n]) => `rev ${r}: ${n}`).join(' · '), tone: revs.length > 1 ? 'info' : undefined, title: revs.length > 1 ? 'a rolling update is under way' : undefined });
  const oldest = g.pods.reduce<string | undefined>((a, p) => (!a || (p.meta.created ?? '') < a ? p.meta.created : a), undefined);
  lines.push({ text: `oldest Pod ${age(oldest, now)}` });
  const worstState = (['terminating', 'failed', 'notready', 'pending', 'ready', 'succeeded'] as PodState[]).find((s) => counts[s]) ?? 'ready';
  return {
    id: `grp:${g.key}`,
    kind: 'group',
    column: 2,
    title: g.name,
    subtitle: `${g.kind} · ${g.pods.length} Pod${g.pods.length === 1 ? '' : 's'}`,
    tone: POD_TONE[worstState],
    state: worstState,
    lines,
    ref: { kind: 'Group', namespace: g.namespace, name: g.key },
    group: { key: g.key, collapsed },
  };
}

export function serviceNode(svc: WService, members: Map<string, { state: MemberState }>, addresses: number): GNode {
  const n: Record<MemberState, number> = { ready: 0, notready: 0, terminating: 0, candidate: 0, excluded: 0 };
  for (const m of members.values()) n[m.state]++;
  const lines: Line[] = [];
  const headless = svc.clusterIP === 'None';
  let tone: Tone = 'ok';
  let state = 'ready';
  if (svc.type === 'ExternalName') {
    lines.push({ text: `alias of ${svc.externalName ?? '?'}` });
    tone = 'info';
    state = 'alias';
  } else {
    lines.push(svc.selector ? { text: `selector ${Object.entries(svc.selector).map(([k, v]) => `${k}=${v}`).join(', ')}` } : { text: 'no selector: endpoints by hand', tone: 'info' });
    const total = n.ready + n.notready + n.terminating + addresses;
    const extra = [n.notready && `${n.notready} not ready`, n.terminating && `${n.terminating} terminating`, n.candidate && `${n.candidate} matching, no endpoint`].filter(Boolean).join(' · ');
    const ready = n.ready + addresses;
    if (ready === 0) {
      tone = 'bad';
      state = 'noendpoints';
    } else if (n.notready || n.terminating) tone = 'warn';
    lines.push({ text: `${ready}/${total} endpoints ready${extra ? ` · ${extra}` : ''}`, tone });
  }
  if (svc.ports.length) lines.push({ text: `ports ${svc.ports.map((p) => `${p.port}/${p.protocol}${p.targetPort !== undefined ? `→${p.targetPort}` : ''}`).join(', ')}` });
  if (svc.sessionAffinity === 'ClientIP') lines.push({ text: 'session affinity: ClientIP' });
  return {
    id: `svc:${svc.meta.namespace}/${svc.meta.name}`,
    kind: 'service',
    column: 1,
    title: svc.meta.name,
    subtitle: `Service · ${svc.type}${headless ? ' · headless' : ''}`,
    tone,
    state,
    lines,
    ref: { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name },
  };
}

const MAX_DNS_LINES = 8;

export function entryNode(svc: WService, endpoints: WEndpoint[], state: ClusterState, clusterDomain: string): GNode {
  const fqdn = `${svc.meta.name}.${svc.meta.namespace}.svc.${clusterDomain}`;
  const lines: Line[] = [];
  const headless = svc.clusterIP === 'None';
  if (svc.type === 'ExternalName') {
    lines.push({ text: `DNS ${fqdn}`, title: fqdn });
    lines.push({ text: `→ CNAME ${svc.externalName ?? '?'}` });
  } else {
    const nodeIP = state.nodes.flatMap((n) => n.addresses)[0];
    for (const p of svc.ports) {
      if (svc.clusterIP && !headless) lines.push({ text: `ClusterIP ${svc.clusterIP}:${p.port}/${p.protocol}` });
      if (p.nodePort) lines.push({ text: `NodePort ${nodeIP ?? '<node>'}:${p.nodePort}/${p.protocol}`, title: `every node address, port ${p.nodePort}` });
      for (const ip of svc.loadBalancerIPs) lines.push({ text: `LoadBalancer ${ip}:${p.port}/${p.protocol}` });
      for (const ip of svc.externalIPs) lines.push({ text: `external IP ${ip}:${p.port}/${p.protocol}` });
    }
    if (svc.clusterIP === '') lines.push({ text: 'no ClusterIP yet', tone: 'warn' });
    lines.push({ text: `DNS ${fqdn}`, title: fqdn });
    if (headless) {
      // A headless Service's name answers with the Pods' own addresses, and each has a name of its own.
      const published = endpoints.filter((e) => e.ready || svc.publishNotReadyAddresses);
      for (const e of published.slice(0, MAX_DNS_LINES)) {
        const host = `${e.hostname ?? dashedIP(e.ip)}.${fqdn}`;
        lines.push({ text: `${host} → ${e.ip}`, title: host });
      }
      if (published.length > MAX_DNS_LINES) lines.push({ text: `… ${published.length - MAX_DNS_LINES} more per-Pod names` });
      if (published.length === 0) lines.push({ text: 'no Ready Pods: the name has no addresses', tone: 'warn' });
    }
  }
  return {
    id: `entry:${svc.meta.namespace}/${svc.meta.name}`,
    kind: 'entry',
    column: 0,
    title: svc.meta.name,
    subtitle: headless ? 'DNS names (headless)' : svc.type === 'ExternalName' ? 'DNS alias' : 'entry points',
    tone: 'info',
    lines,
    ref: { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name },
  };
}

export function ingressNode(ing: WIngress): GNode {
  const tls = new Set(ing.tlsHosts);
  const lines: Line[] = ing.paths.map((p) => {
    const scheme = tls.has(p.host) ? 'https' : 'http';
    const target = p.service ? `${p.service}:${p.port ?? '?'}` : 'no Service backend';
    const text = `${scheme}://${p.host}${p.path} → ${target}`;
    return { text, title: `${text} (${p.pathType})` };
  });
  if (ing.addresses.length) lines.push({ text: `address ${ing.addresses.join(', ')}` });
  return {
    id: `ing:${ing.meta.namespace}/${ing.meta.name}`,
    kind: 'ingress',
    column: 0,
    title: ing.meta.name,
    subtitle: `Ingress${ing.className ? ` · ${ing.className}` : ''}`,
    tone: 'info',
    lines: lines.length ? lines : [{ text: 'no rules', tone: 'warn' }],
    ref: { kind: 'Ingress', namespace: ing.meta.namespace, name: ing.meta.name },
  };
}

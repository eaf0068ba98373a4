// Human descriptions in kubectl describe's layout: aligned "Key:  value" lines, the kind's own
// sections, then the object's Events. Pure: it formats what the command fetched.

import YAML from 'yaml';
import type { Deployment, Endpoints, Event, KObject, Pod, ReplicaSet, Service, Node, Probe, Container } from '../src/api/types.js';
import { humanAge } from '../src/util/time.js';
import { labelSelectorToString } from '../src/api/selectors.js';
import { podStatusReason } from '../src/api/printers.js';

type Line = [string, string] | string;

function kv(map: Record<string, string> | undefined, indent: string): string {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return '<none>';
  return entries.map(([k, v], i) => `${i === 0 ? '' : indent}${k}=${v}`).join('\n');
}

function section(lines: Line[], pad = 0): string {
  const width = Math.max(0, ...lines.filter((l): l is [string, string] => Array.isArray(l)).map(([k]) => k.length + 1)) + 2;
  const prefix = ' '.repeat(pad);
  return lines
    .map((l) => (Array.isArray(l) ? `${prefix}${(l[0] + ':').padEnd(width)}${l[1].split('\n').join('\n' + ' '.repeat(width + pad))}` : prefix + l))
    .join('\n');
}

function metaLines(o: KObject): Line[] {
  const anns = { ...(o.metadata.annotations ?? {}) };
  delete anns['kubectl.kubernetes.io/last-applied-configuration'];
  const lines: Line[] = [['Name', o.metadata.name ?? '']];
  if (o.metadata.namespace) lines.push(['Namespace', o.metadata.namespace]);
  lines.push(['Labels', kv(o.metadata.labels, ' '.repeat(14))], ['Annotations', kv(anns, ' '.repeat(14))]);
  return lines;
}

function probe(p: Probe | undefined): string | undefined {
  if (!p) return undefined;
  const how = p.httpGet ? `http-get ${p.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://:${p.httpGet.port}${p.httpGet.path ?? '/'}` : p.tcpSocket ? `tcp-socket :${p.tcpSocket.port}` : p.exec ? `exec [${(p.exec.command ?? []).join(' ')}]` : 'unknown';
  return `${how} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

function containerLines(c: Container, status: Pod['status'] | undefined): string {
  const cs = status?.containerStatuses?.find((s) => s.name === c.name);
  const lines: Line[] = [];
  if (cs?.containerID) lines.push(['Container ID', cs.containerID]);
  lines.push(['Image', c.image]);
  if (cs?.imageID) lines.push(['Image ID', cs.imageID]);
  const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`).join(', ');
  lines.push(['Port', ports || '<none>']);
  if (c.command) lines.push(['Command', c.command.join('\n')]);
  if (c.args) lines.push(['Args', c.args.join('\n')]);
  if (cs) {
    const st = cs.state;
    if (st.running) lines.push(['State', `Running\n  Started:      ${st.running.startedAt ?? ''}`]);
    else if (st.waiting) lines.push(['State', `Waiting\n  Reason:       ${st.waiting.reason ?? ''}${st.waiting.message ? `\n  Message:      ${st.waiting.message}` : ''}`]);
    else if (st.terminated) lines.push(['State', `Terminated\n  Reason:       ${st.terminated.reason ?? ''}\n  Exit Code:    ${st.terminated.exitCode}`]);
    const last = cs.lastState?.terminated;
    if (last) lines.push(['Last State', `Terminated\n  Reason:       ${last.reason ?? ''}\n  Exit Code:    ${last.exitCode}\n  Started:      ${last.startedAt ?? ''}\n  Finished:     ${last.finishedAt ?? ''}`]);
    lines.push(['Ready', cs.ready ? 'True' : 'False'], ['Restart Count', String(cs.restartCount)]);
  }
  if (c.resources?.limits) lines.push(['Limits', Object.entries(c.resources.limits).map(([k, v]) => `${k}: ${v}`).join('\n')]);
  if (c.resources?.requests) lines.push(['Requests', Object.entries(c.resources.requests).map(([k, v]) => `${k}: ${v}`).join('\n')]);
  const live = probe(c.livenessProbe);
  const ready = probe(c.readinessProbe);
  if (live) lines.push(['Liveness', live]);
  if (ready) lines.push(['Readiness', ready]);
  const env = (c.env ?? []).map((e) => `${e.name}: ${e.value ?? (e.valueFrom?.fieldRef ? ` (${e.valueFrom.fieldRef.fieldPath})` : e.valueFrom?.configMapKeyRef ? `<set to the key '${e.valueFrom.configMapKeyRef.key}' of config map '${e.valueFrom.configMapKeyRef.name}'>` : e.valueFrom?.secretKeyRef ? `<set to the key '${e.valueFrom.secretKeyRef.key}' in secret '${e.valueFrom.secretKeyRef.name}'>` : '')}`);
  lines.push(['Environment', env.length ? env.join('\n') : '<none>']);
  const mounts = (c.volumeMounts ?? []).map((m) => `${m.mountPath} from ${m.name} (${m.readOnly ? 'ro' : 'rw'})`);
  lines.push(['Mounts', mounts.length ? mounts.join('\n') : '<none>']);
  return `  ${c.name}:\n` + section(lines, 4);
}

function describePod(pod: Pod): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  const lines: Line[] = [
    ...metaLines(pod).slice(0, 2),
    ['Priority', String(pod.spec.priority ?? 0)],
    ['Service Account', pod.spec.serviceAccountName ?? 'default'],
    ['Node', pod.spec.nodeName ? `${pod.spec.nodeName}/${pod.status?.hostIP ?? ''}` : '<none>'],
    ['Start Time', pod.status?.startTime ?? '<none>'],
    ...metaLines(pod).slice(2),
    ['Status', pod.metadata.deletionTimestamp ? `Terminating (lasts ${humanAge(pod.metadata.deletionTimestamp)})` : pod.status?.phase ?? 'Pending'],
  ];
  if (pod.status?.reason) lines.push(['Reason', pod.status.reason]);
  if (pod.status?.message) lines.push(['Message', pod.status.message]);
  lines.push(['IP', pod.status?.podIP ?? ''], ['IPs', pod.status?.podIP ? `IP:  ${pod.status.podIP}` : '<none>']);
  if (owner) lines.push(['Controlled By', `${owner.kind}/${owner.name}`]);
  let out = section(lines) + '\nContainers:\n' + pod.spec.containers.map((c) => containerLines(c, pod.status)).join('\n');
  const conds = pod.status?.conditions ?? [];
  out += '\nConditions:\n  Type              Status\n' + (conds.length ? conds.map((c) => `  ${c.type.padEnd(18)}${c.status}`).join('\n') : '  <none>');
  const vols = pod.spec.volumes ?? [];
  out += '\nVolumes:' + (vols.length ? '\n' + vols.map((v) => `  ${v.name}:\n    ${v.emptyDir ? 'Type:  EmptyDir' : v.hostPath ? `Type:  HostPath\n    Path:  ${v.hostPath.path}` : v.configMap ? `Type:  ConfigMap\n    Name:  ${v.configMap.name}` : v.secret ? `Type:  Secret\n    SecretName:  ${v.secret.secretName}` : 'Type:  <unknown>'}`).join('\n') : '  <none>');
  out += `\nQoS Class:       ${pod.status?.qosClass ?? 'BestEffort'}\nNode-Selectors:  ${kv(pod.spec.nodeSelector, '                 ')}\nTolerations:     ${(pod.spec.tolerations ?? []).map((t) => `${t.key ?? ''}${t.operator === 'Exists' ? '' : `=${t.value ?? ''}`}:${t.effect ?? ''}`).join(', ') || '<none>'}`;
  void podStatusReason;
  return out;
}

function describeDeployment(d: Deployment, rss: ReplicaSet[]): string {
  const s = d.status ?? {};
  const ru = d.spec.strategy?.rollingUpdate;
  const lines: Line[] = [
    ...metaLines(d).slice(0, 2),
    ['CreationTimestamp', d.metadata.creationTimestamp ?? ''],
    ...metaLines(d).slice(2),
    ['Selector', labelSelectorToString(d.spec.selector)],
    ['Replicas', `${d.spec.replicas ?? 1} desired | ${s.updatedReplicas ?? 0} updated | ${s.replicas ?? 0} total | ${s.availableReplicas ?? 0} available | ${s.unavailableReplicas ?? 0} unavailable`],
    ['StrategyType', d.spec.strategy?.type ?? 'RollingUpdate'],
    ['MinReadySeconds', String(d.spec.minReadySeconds ?? 0)],
  ];
  if ((d.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate') lines.push(['RollingUpdateStrategy', `${ru?.maxUnavailable ?? '25%'} max unavailable, ${ru?.maxSurge ?? '25%'} max surge`]);
  let out = section(lines);
  out += '\nPod Template:\n' + section([['Labels', kv(d.spec.template.metadata?.labels, '            ')]], 2) + '\n  Containers:\n' + d.spec.template.spec.containers.map((c) => containerLines(c, undefined).replace(/^/gm, '  ')).join('\n');
  const conds = s.conditions ?? [];
  out += '\nConditions:\n  Type           Status  Reason\n  ----           ------  ------\n' + (conds.length ? conds.map((c) => `  ${c.type.padEnd(15)}${c.status.padEnd(8)}${c.reason ?? ''}`).join('\n') : '  <none>');
  const owned = rss.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid));
  const hash = (rs: ReplicaSet) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '0';
  owned.sort((a, b) => Number(hash(b)) - Number(hash(a)));
  const fmt = (rs: ReplicaSet) => `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec.replicas ?? 0} replicas created)`;
  out += `\nOldReplicaSets:  ${owned.slice(1).filter((rs) => (rs.spec.replicas ?? 0) > 0).map(fmt).join(', ') || '<none>'}`;
  out += `\nNewReplicaSet:   ${owned[0] ? fmt(owned[0]) : '<none>'}`;
  return out;
}

function describeService(svc: Service, ep: Endpoints | undefined): string {
  const lines: Line[] = [...metaLines(svc), ['Selector', svc.spec.selector ? Object.entries(svc.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>'], ['Type', svc.spec.type ?? 'ClusterIP']];
  if ((svc.spec.type ?? 'ClusterIP') === 'ExternalName') {
    lines.push(['External Name', svc.spec.externalName ?? '']);
  } else {
    lines.push(['IP Family Policy', svc.spec.ipFamilyPolicy ?? 'SingleStack'], ['IP Families', (svc.spec.ipFamilies ?? ['IPv4']).join(',')], ['IP', svc.spec.clusterIP ?? ''], ['IPs', (svc.spec.clusterIPs ?? [svc.spec.clusterIP ?? '']).join(',')]);
  }
  const lb = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).filter(Boolean);
  if (lb.length) lines.push(['LoadBalancer Ingress', lb.join(', ')]);
  for (const p of svc.spec.ports ?? []) {
    const name = p.name || '<unset>';
    lines.push(['Port', `${name}  ${p.port}/${p.protocol ?? 'TCP'}`], ['TargetPort', `${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`]);
    if (p.nodePort) lines.push(['NodePort', `${name}  ${p.nodePort}/${p.protocol ?? 'TCP'}`]);
    const addrs: string[] = [];
    for (const s of ep?.subsets ?? []) {
      const port = (s.ports ?? []).find((x) => (x.name ?? '') === (p.name ?? ''));
      if (port) for (const a of s.addresses ?? []) addrs.push(`${a.ip}:${port.port}`);
    }
    lines.push(['Endpoints', addrs.length ? addrs.join(',') : svc.spec.selector ? '<none> (no Ready Pods match the selector)' : '<none>']);
  }
  lines.push(['Session Affinity', svc.spec.sessionAffinity ?? 'None']);
  if (svc.spec.externalTrafficPolicy) lines.push(['External Traffic Policy', svc.spec.externalTrafficPolicy]);
  lines.push(['Internal Traffic Policy', svc.spec.internalTrafficPolicy ?? 'Cluster']);
  return section(lines);
}

function describeNode(n: Node): string {
  const lines: Line[] = [...metaLines(n), ['CreationTimestamp', n.metadata.creationTimestamp ?? ''], ['Taints', (n.spec.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join('\n') || '<none>'], ['Unschedulable', String(!!n.spec.unschedulable)]];
  let out = section(lines);
  out += '\nConditions:\n  Type    Status  LastHeartbeatTime  Reason  Message\n' + (n.status?.conditions ?? []).map((c) => `  ${c.type}  ${c.status}  ${c.lastHeartbeatTime ?? ''}  ${c.reason ?? ''}  ${c.message ?? ''}`).join('\n');
  out += '\nAddresses:\n' + (n.status?.addresses ?? []).map((a) => `  ${a.type}:  ${a.address}`).join('\n');
  out += '\nCapacity:\n' + Object.entries(n.status?.capacity ?? {}).map(([k, v]) => `  ${k}:  ${v}`).join('\n');
  out += '\nAllocatable:\n' + Object.entries(n.status?.allocatable ?? {}).map(([k, v]) => `  ${k}:  ${v}`).join('\n');
  const info = n.status?.nodeInfo ?? {};
  out += '\nSystem Info:\n' + section(Object.entries(info).map(([k, v]) => [k.replace(/^./, (c) => c.toUpperCase()).replace(/([A-Z])/g, ' $1').trim(), String(v)] as [string, string]), 2);
  out += `\nPodCIDR:  ${n.spec.podCIDR ?? '<none>'}`;
  return out;
}

function describeGeneric(o: KObject): string {
  const { metadata: _m, apiVersion, kind, ...rest } = o;
  const body = YAML.stringify(rest).trimEnd().replace(/^/gm, '  ');
  return section([...metaLines(o), ['API Version', apiVersion], ['Kind', kind]]) + (body.trim() ? `\n${body}` : '');
}

export function eventsSection(events: Event[], now = Date.now()): string {
  if (events.length === 0) return 'Events:  <none>';
  const rows = [['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------']];
  const sorted = [...events].sort((a, b) => Date.parse(a.lastTimestamp ?? a.metadata.creationTimestamp ?? '') - Date.parse(b.lastTimestamp ?? b.metadata.creationTimestamp ?? ''));
  for (const e of sorted) {
    const last = e.lastTimestamp ?? e.metadata.creationTimestamp;
    const age = (e.count ?? 1) > 1 ? `${humanAge(last, now)} (x${e.count} over ${humanAge(e.firstTimestamp ?? last, now)})` : humanAge(last, now);
    rows.push([e.type ?? 'Normal', e.reason ?? '', age, e.source?.component ?? '', e.message ?? '']);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)) + 2);
  return 'Events:\n' + rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('')).join('\n');
}

export interface DescribeExtras {
  replicaSets?: ReplicaSet[];
  endpoints?: Endpoints;
}

export function describe(o: KObject, events: Event[], extras: DescribeExtras = {}): string {
  let body: string;
  switch (o.kind) {
    case 'Pod':
      body = describePod(o as Pod);
      break;
    case 'Deployment':
      body = describeDeployment(o as Deployment, extras.replicaSets ?? []);
      break;
    case 'Service':
      body = describeService(o as Service, extras.endpoints);
      break;
    case 'Node':
      body = describeNode(o as Node);
      break;
    case 'Secret': {
      const data = (o as KObject & { data?: Record<string, string> }).data ?? {};
      body = section([...metaLines(o), ['Type', String((o as { type?: string }).type ?? 'Opaque')]]) + '\n\nData\n====\n' + Object.entries(data).map(([k, v]) => `${k}:  ${Buffer.from(v, 'base64').length} bytes`).join('\n');
      break;
    }
    default:
      body = describeGeneric(o);
  }
  return `${body}\n${eventsSection(events)}\n`;
}

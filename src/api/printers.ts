// Server-side printing, as Kubernetes does it: `kubectl get` asks the server for a Table and prints
// whatever columns come back, so these columns are what kubectl and our own CLI both show. Column
// names and cell formats follow Kubernetes' printers (pkg/printers/internalversion).

import type {
  ConfigMap, Deployment, Endpoints, EndpointSlice, Event, Ingress, IngressClass, KObject, LabelSelector, Lease, Namespace, Node, Pod, ReplicaSet, Secret, Service,
} from './types.js';
import type { ResourceInfo } from './resources.js';
import { humanAge, humanDuration } from '../util/time.js';
import { labelSelectorToString } from './selectors.js';
import { RBAC_PRINTERS } from './printers-rbac.js';
import { WORKLOAD_PRINTERS } from './printers-workloads.js';
import { POLICY_PRINTERS } from './printers-policy.js';
import { RESOURCES } from './resources.js';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface Printer {
  columns: ColumnDefinition[];
  /** A null cell is a value the object does not have (kubectl prints `<none>`). */
  cells(obj: KObject, now: number): (string | number | boolean | null)[];
}

function col(name: string, type: ColumnDefinition['type'] = 'string', priority = 0, format = '', description = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

const NAME = col('Name', 'string', 0, 'name', 'Name must be unique within a namespace.');
const AGE = col('Age', 'string', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

const age = (o: KObject, now: number) => humanAge(o.metadata.creationTimestamp, now);

// ---------------------------------------------------------------- pods

/** Kubernetes' pod STATUS column logic (printPod). */
export function podStatusReason(pod: Pod): string {
  const status = pod.status ?? {};
  let reason = status.reason || status.phase || 'Pending';
  let initializing = false;
  const inits = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    if (c.state.terminated && c.state.terminated.exitCode === 0) continue;
    if (c.state.terminated) {
      reason = c.state.terminated.reason ? `Init:${c.state.terminated.reason}` : c.state.terminated.signal ? `Init:Signal:${c.state.terminated.signal}` : `Init:ExitCode:${c.state.terminated.exitCode}`;
    } else if (c.state.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${c.state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${pod.spec.initContainers?.length ?? inits.length}`;
    }
    initializing = true;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    const cs = status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      if (c.state.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return reason;
}

function podRestarts(pod: Pod, now: number): string {
  let restarts = 0;
  let last = 0;
  for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) last = Math.max(last, Date.parse(finished));
  }
  return last && restarts ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
}

const pods: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 0, '', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 0, '', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 0, '', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE,
    col('IP', 'string', 1, '', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'),
    col('Node', 'string', 1, '', 'Name of the Node this pod is running on.'),
    col('Nominated Node', 'string', 1, '', 'Name of the node the pod is nominated to run on.'),
    col('Readiness Gates', 'string', 1, '', 'The readiness gates of this pod.'),
  ],
  cells(o, now) {
    const pod = o as Pod;
    const total = pod.spec.containers?.length ?? 0;
    const ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready).length;
    return [pod.metadata.name!, `${ready}/${total}`, podStatusReason(pod), podRestarts(pod, now), age(pod, now), pod.status?.podIP || '<none>', pod.spec.nodeName || '<none>', '<none>', '<none>'];
  },
};

// ---------------------------------------------------------------- workloads

function containersAndImages(o: Deployment | ReplicaSet): [string, string] {
  const cs = o.spec.template?.spec.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}

function selectorString(sel: LabelSelector | undefined): string {
  if (!sel) return '<none>';
  const s = labelSelectorToString(sel);
  return s || '<none>';
}

const deployments: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 0, '', 'Number of the pod with ready state'),
    col('Up-to-date', 'integer', 0, '', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'integer', 0, '', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    AGE,
    col('Containers', 'string', 1, '', 'Names of each container in the template.'),
    col('Images', 'string', 1, '', 'Images referenced by each container in the template.'),
    col('Selector', 'string', 1, '', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
  ],
  cells(o, now) {
    const d = o as Deployment;
    const [containers, images] = containersAndImages(d);
    return [d.metadata.name!, `${d.status?.readyReplicas ?? 0}/${d.spec.replicas ?? 1}`, d.status?.updatedReplicas ?? 0, d.status?.availableReplicas ?? 0, age(d, now), containers, images, selectorString(d.spec.selector)];
  },
};

const replicasets: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer', 0, '', 'Number of desired pods.'),
    col('Current', 'integer', 0, '', 'Number of actual replicas.'),
    col('Ready', 'integer', 0, '', 'The number of ready replicas for this replica set.'),
    AGE,
    col('Containers', 'string', 1, '', 'Names of each container in the template.'),
    col('Images', 'string', 1, '', 'Images referenced by each container in the template.'),
    col('Selector', 'string', 1, '', 'Label selector for pods.'),
  ],
  cells(o, now) {
    const rs = o as ReplicaSet;
    const [containers, images] = containersAndImages(rs);
    return [rs.metadata.name!, rs.spec.replicas ?? 1, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, age(rs, now), containers, images, selectorString(rs.spec.selector)];
  },
};

// ---------------------------------------------------------------- services

export function servicePorts(svc: Service): string {
  const ports = svc.spec.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

export function serviceExternalIP(svc: Service): string {
  const type = svc.spec.type ?? 'ClusterIP';
  if (type === 'ExternalName') return svc.spec.externalName ?? '<none>';
  const lb = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean);
  const ext = [...lb, ...(svc.spec.externalIPs ?? [])];
  if (type === 'LoadBalancer') return ext.length ? ext.join(',') : '<pending>';
  return ext.length ? ext.join(',') : '<none>';
}

const services: Printer = {
  columns: [
    NAME,
    col('Type', 'string', 0, '', 'type determines how the Service is exposed.'),
    col('Cluster-IP', 'string', 0, '', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    col('External-IP', 'string', 0, '', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'string', 0, '', 'The list of ports that are exposed by this service.'),
    AGE,
    col('Selector', 'string', 1, '', 'Route service traffic to pods with label keys and values matching this selector.'),
  ],
  cells(o, now) {
    const svc = o as Service;
    const sel = svc.spec.selector && Object.keys(svc.spec.selector).length ? Object.entries(svc.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
    const clusterIP = (svc.spec.type ?? 'ClusterIP') === 'ExternalName' ? '<none>' : svc.spec.clusterIP || '<none>';
    return [svc.metadata.name!, svc.spec.type ?? 'ClusterIP', clusterIP, serviceExternalIP(svc), servicePorts(svc), age(svc, now), sel];
  },
};

/** `10.244.0.5:8080,10.244.0.6:8080 + 3 more...` as kubectl prints Endpoints. */
export function formatEndpoints(ep: Endpoints, max = 3): string {
  const all: string[] = [];
  for (const s of ep.subsets ?? []) {
    const ports = s.ports?.length ? s.ports : [undefined];
    for (const a of s.addresses ?? []) for (const p of ports) all.push(p ? `${a.ip}:${p.port}` : a.ip);
  }
  if (all.length === 0) return '<none>';
  return all.length > max ? `${all.slice(0, max).join(',')} + ${all.length - max} more...` : all.join(',');
}

const endpoints: Printer = {
  columns: [NAME, col('Endpoints', 'string', 0, '', 'Endpoints of the service'), AGE],
  cells: (o, now) => [o.metadata.name!, formatEndpoints(o as Endpoints), age(o, now)],
};

const endpointslices: Printer = {
  columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
  cells(o, now) {
    const s = o as EndpointSlice;
    const ports = s.ports?.length ? s.ports.map((p) => String(p.port ?? '<unset>')).join(',') : '<unset>';
    const addrs = s.endpoints.flatMap((e) => e.addresses);
    const eps = addrs.length === 0 ? '<unset>' : addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
    return [s.metadata.name!, s.addressType, ports, eps, age(s, now)];
  },
};

// ---------------------------------------------------------------- cluster

const nodes: Printer = {
  columns: [
    NAME,
    col('Status', 'string', 0, '', 'The status of the node'),
    col('Roles', 'string', 0, '', 'The roles of the node'),
    AGE,
    col('Version', 'string', 0, '', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 1, '', 'List of addresses reachable to the node.'),
    col('External-IP', 'string', 1, '', 'List of addresses reachable to the node.'),
    col('OS-Image', 'string', 1, '', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'),
    col('Kernel-Version', 'string', 1, '', 'Kernel Version reported by the node from uname -r (e.g. 3.16.0-0.bpo.4-amd64).'),
    col('Container-Runtime', 'string', 1, '', 'Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).'),
  ],
  cells(o, now) {
    const n = o as Node;
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    let status = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
    if (n.spec.unschedulable) status += ',SchedulingDisabled';
    const roles = Object.keys(n.metadata.labels ?? {})
      .filter((k) => k.startsWith('node-role.kubernetes.io/'))
      .map((k) => k.slice('node-role.kubernetes.io/'.length))
      .join(',');
    const addr = (t: string) => n.status?.addresses?.find((a) => a.type === t)?.address ?? '<none>';
    const info = n.status?.nodeInfo ?? {};
    return [n.metadata.name!, status, roles || '<none>', age(n, now), info.kubeletVersion ?? '', addr('InternalIP'), addr('ExternalIP'), info.osImage ?? '<unknown>', info.kernelVersion ?? '<unknown>', info.containerRuntimeVersion ?? '<unknown>'];
  },
};

const namespaces: Printer = {
  columns: [NAME, col('Status', 'string', 0, '', 'The status of the namespace'), AGE],
  cells: (o, now) => [o.metadata.name!, (o as Namespace).status?.phase ?? 'Active', age(o, now)],
};

const events: Printer = {
  columns: [
    col('Last Seen', 'string', 0, '', 'Time when last event occurred'),
    col('Type', 'string', 0, '', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    col('Reason', 'string', 0, '', 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
    col('Object', 'string', 0, '', 'The object this Event is about.'),
    col('Subobject', 'string', 1, '', 'The subobject this Event is about.'),
    col('Source', 'string', 1, '', 'The component reporting this event.'),
    col('Message', 'string', 0, '', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 1, '', 'Time when first event occurred'),
    col('Count', 'string', 1, '', 'The number of times this event has occurred.'),
    col('Name', 'string', 1, 'name', 'Name must be unique within a namespace.'),
  ],
  cells(o, now) {
    const e = o as Event;
    const last = e.lastTimestamp || e.eventTime || e.metadata.creationTimestamp || undefined;
    const first = e.firstTimestamp || e.eventTime || e.metadata.creationTimestamp || undefined;
    const count = e.count ?? 1;
    const lastSeen = count > 1 ? `${humanAge(last ?? undefined, now)} (x${count} over ${humanAge(first ?? undefined, now)})` : humanAge(last ?? undefined, now);
    const obj = `${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name ?? ''}`;
    return [lastSeen, e.type ?? '', e.reason ?? '', obj, e.involvedObject.fieldPath ?? '', [e.source?.component, e.source?.host].filter(Boolean).join(', '), e.message ?? '', humanAge(first ?? undefined, now), count, e.metadata.name!];
  },
};

const configmaps: Printer = {
  columns: [NAME, col('Data', 'integer', 0, '', 'Number of data in configmap'), AGE],
  cells: (o, now) => [o.metadata.name!, Object.keys((o as ConfigMap).data ?? {}).length + Object.keys((o as ConfigMap).binaryData ?? {}).length, age(o, now)],
};

// Secrets print only their type and key count: values never reach a table.
const secrets: Printer = {
  columns: [NAME, col('Type', 'string', 0, '', 'The type of the secret'), col('Data', 'integer', 0, '', 'The number of data in the secret'), AGE],
  cells: (o, now) => [o.metadata.name!, (o as Secret).type ?? 'Opaque', Object.keys((o as Secret).data ?? {}).length, age(o, now)],
};

export function ingressHosts(ing: Ingress): string {
  const hosts = (ing.spec.rules ?? []).map((r) => r.host).filter((h): h is string => !!h);
  if (hosts.length === 0) return '*';
  return hosts.length > 4 ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...` : hosts.join(',');
}

const ingresses: Printer = {
  columns: [
    NAME,
    col('Class', 'string', 0, '', 'The name of the IngressClass resource that should be used for this Ingress.'),
    col('Hosts', 'string', 0, '', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', 0, '', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', 0, '', 'Ports of TLS configurations that open'),
    AGE,
  ],
  cells(o, now) {
    const ing = o as Ingress;
    const cls = ing.spec.ingressClassName ?? '<none>';
    const addr = (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean).join(',');
    const ports = ing.spec.tls?.length ? '80, 443' : '80';
    return [ing.metadata.name!, cls, ingressHosts(ing), addr, ports, age(ing, now)];
  },
};

const ingressclasses: Printer = {
  columns: [NAME, col('Controller'), col('Parameters'), AGE],
  cells: (o, now) => [o.metadata.name!, (o as IngressClass).spec.controller ?? '', (o as IngressClass).spec.parameters ? 'yes' : '<none>', age(o, now)],
};

// kubectl's Lease columns: NAME HOLDER AGE.
const leases: Printer = {
  columns: [NAME, col('Holder', 'string', 0, '', 'The holder of the lease.'), AGE],
  cells: (o, now) => [o.metadata.name!, (o as Lease).spec?.holderIdentity ?? '', age(o, now)],
};

const generic: Printer = { columns: [NAME, AGE], cells: (o, now) => [o.metadata.name!, age(o, now)] };

const PRINTERS: Record<string, Printer> = {
  pods, deployments, replicasets, services, endpoints, endpointslices, nodes, namespaces, events, configmaps, secrets, ingresses, ingressclasses, leases,
  ...RBAC_PRINTERS,
  ...WORKLOAD_PRINTERS,
  ...POLICY_PRINTERS,
};

const BUILTIN: ReadonlySet<ResourceInfo> = new Set(RESOURCES);
/** Printers of resources served while the server runs (a CRD's additionalPrinterColumns). */
const attached = new WeakMap<ResourceInfo, Printer>();

/** Gives a resource added at run time its columns (removed with the resource itself). */
export function attachPrinter(res: ResourceInfo, printer: Printer): void {
  attached.set(res, printer);
}

export function printerFor(res: ResourceInfo): Printer {
  const own = attached.get(res);
  if (own) return own;
  // A custom resource that happens to be called `pods` in another group is not a Pod.
  return (BUILTIN.has(res) ? PRINTERS[res.plural] : undefined) ?? generic;
}

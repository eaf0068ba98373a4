// Table columns of CustomResourceDefinitions, HorizontalPodAutoscalers, PodDisruptionBudgets,
// NetworkPolicies and PriorityClasses, as Kubernetes' printers print them (pkg/printers/internalversion:
// printHorizontalPodAutoscaler, printPodDisruptionBudget, printNetworkPolicy, printPriorityClass; the
// apiextensions server's default CRD table).

import type { ColumnDefinition, Printer } from './printers.js';
import type { CustomResourceDefinition, HorizontalPodAutoscaler, HorizontalPodAutoscalerV1, KObject, MetricSpec, MetricStatus, NetworkPolicy, PodDisruptionBudget, PriorityClass } from './types.js';
import { labelSelectorToString } from './selectors.js';
import { humanAge } from '../util/time.js';

function col(name: string, type: ColumnDefinition['type'] = 'string', priority = 0, format = '', description = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}
const NAME = col('Name', 'string', 0, 'name', 'Name must be unique within a namespace.');
const AGE = col('Age', 'string', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const age = (o: KObject, now: number) => humanAge(o.metadata.creationTimestamp, now);

const customresourcedefinitions: Printer = {
  columns: [NAME, col('Created At', 'date', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
  cells: (o) => [o.metadata.name!, (o as CustomResourceDefinition).metadata.creationTimestamp ?? ''],
};

function quantityText(v: unknown): string {
  return v === undefined || v === null ? '<unknown>' : String(v);
}

/** One metric as `cpu: 250%/50%` (Kubernetes 1.30+ names the resource). */
function metricText(spec: MetricSpec, status: MetricStatus | undefined): string {
  if (spec.type === 'Resource' && spec.resource) {
    const name = spec.resource.name;
    const cur = status?.type === 'Resource' && status.resource?.name === name ? status.resource.current : undefined;
    const t = spec.resource.target;
    if (t.type === 'Utilization' || t.averageUtilization !== undefined) {
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>';
      return `${name}: ${current}/${t.averageUtilization ?? 0}%`;
    }
    return `${name}: ${cur?.averageValue ?? '<unknown>'}/${quantityText(t.averageValue)}`;
  }
  if (spec.type === 'ContainerResource' && spec.containerResource) {
    const t = spec.containerResource.target;
    const cur = status?.containerResource?.current;
    const current = t.averageUtilization !== undefined ? (cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>') : (cur?.averageValue ?? '<unknown>');
    return `${spec.containerResource.name}: ${current}/${t.averageUtilization !== undefined ? `${t.averageUtilization}%` : quantityText(t.averageValue)}`;
  }
  const named = spec.pods ?? spec.object ?? spec.external;
  return `${named?.metric.name ?? spec.type}: <unknown>/${quantityText(named?.target.averageValue ?? named?.target.value)}`;
}

export function hpaTargets(hpa: HorizontalPodAutoscaler): string {
  const metrics = hpa.spec.metrics ?? [];
  if (metrics.length === 0) return '<none>';
  const current = hpa.status?.currentMetrics ?? [];
  const parts = metrics.map((m, i) => metricText(m, current[i]));
  if (parts.length > 2) return `${parts.slice(0, 2).join(', ')} + ${parts.length - 2} more...`;
  return parts.join(', ');
}

const horizontalpodautoscalers: Printer = {
  columns: [
    NAME,
    col('Reference', 'string', 0, '', 'The reference to the target of this autoscaler.'),
    col('Targets', 'string', 0, '', 'The metrics and their targets.'),
    col('MinPods', 'string', 0, '', 'The lower limit for the number of pods.'),
    col('MaxPods', 'integer', 0, '', 'The upper limit for the number of pods.'),
    col('Replicas', 'integer', 0, '', 'The current number of pods.'),
    AGE,
  ],
  cells(o, now) {
    if (o.apiVersion === 'autoscaling/v1') {
      const v1 = o as HorizontalPodAutoscalerV1;
      const cur = v1.status?.currentCPUUtilizationPercentage;
      const targets = `cpu: ${cur !== undefined ? `${cur}%` : '<unknown>'}/${v1.spec.targetCPUUtilizationPercentage ?? 80}%`;
      return [o.metadata.name!, `${v1.spec.scaleTargetRef.kind}/${v1.spec.scaleTargetRef.name}`, targets, v1.spec.minReplicas !== undefined ? String(v1.spec.minReplicas) : '<unset>', v1.spec.maxReplicas, v1.status?.currentReplicas ?? 0, age(o, now)];
    }
    const h = o as HorizontalPodAutoscaler;
    const ref = h.spec.scaleTargetRef;
    return [h.metadata.name!, `${ref.kind}/${ref.name}`, hpaTargets(h), h.spec.minReplicas !== undefined ? String(h.spec.minReplicas) : '<unset>', h.spec.maxReplicas, h.status?.currentReplicas ?? 0, age(h, now)];
  },
};

const poddisruptionbudgets: Printer = {
  columns: [
    NAME,
    col('Min Available', 'string', 0, '', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 0, '', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 0, '', 'Calculated number of pods that may be disrupted at this time.'),
    AGE,
  ],
  cells(o, now) {
    const p = o as PodDisruptionBudget;
    const text = (v: unknown) => (v === undefined ? 'N/A' : String(v));
    return [p.metadata.name!, text(p.spec.minAvailable), text(p.spec.maxUnavailable), p.status?.disruptionsAllowed ?? 0, age(p, now)];
  },
};

const networkpolicies: Printer = {
  columns: [NAME, col('Pod-Selector', 'string', 0, '', 'A label selector over pods; empty selects every pod in the namespace.'), AGE],
  cells(o, now) {
    const n = o as NetworkPolicy;
    return [n.metadata.name!, labelSelectorToString(n.spec?.podSelector ?? {}) || '<none>', age(n, now)];
  },
};

const priorityclasses: Printer = {
  columns: [
    NAME,
    col('Value', 'integer', 0, '', 'The integer value of this priority class.'),
    col('Global-Default', 'boolean', 0, '', 'Whether this is the default priority class.'),
    AGE,
    col('PreemptionPolicy', 'string', 0, '', 'The policy for preempting pods with lower priority.'),
  ],
  cells(o, now) {
    const p = o as PriorityClass;
    return [p.metadata.name!, p.value, String(p.globalDefault ?? false), age(p, now), p.preemptionPolicy ?? 'PreemptLowerPriority'];
  },
};

export const POLICY_PRINTERS: Record<string, Printer> = { customresourcedefinitions, horizontalpodautoscalers, poddisruptionbudgets, networkpolicies, priorityclasses };

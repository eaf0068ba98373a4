// The horizontal pod autoscaler loop (pkg/controller/podautoscaler): every sync period (15 s by
// default) each HPA's target scale is read through its scale subresource (Deployments, ReplicaSets,
// StatefulSets, custom resources with one), its Pods' usage through metrics.k8s.io, and planHPA
// (logic/hpa.ts) decides; the new replica count is written through the scale subresource, the status
// and conditions through hpa/status, and Events say what happened. Stabilisation history lives here,
// per HPA, as upstream keeps it in memory.

import type { CustomResourceDefinition, HorizontalPodAutoscaler, KObject, Pod, PodMetrics, Scale } from '../api/types.js';
import { R, byKind, type ResourceInfo } from '../api/resources.js';
import { objectKey } from '../api/keys.js';
import { METRICS } from '../api/metrics.js';
import { parseQuantity } from '../api/quantity.js';
import { parseLabelSelector } from '../api/selectors.js';
import { crdResources } from '../api/crd/resources.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { emptyMemory, planHPA, statusEqual, type HPAMemory, type PodMetric, type ResourceName } from './logic/index.js';
import { NAMESPACE_INDEX, errorMessage, indexByNamespace, isNotFound } from './shared.js';

export interface HPAControllerOptions extends ControllerOptions {
  /** Seconds between two looks at every HPA (default: the server's --horizontal-pod-autoscaler-sync-period, 15). */
  syncPeriodSeconds?: number;
}

const SCALABLE = [R.deployments, R.replicasets, R.statefulsets];

export class HPAController extends QueueController<ComponentContext> implements Component {
  readonly name = 'horizontal-pod-autoscaler';
  private hpaInf!: Informer<HorizontalPodAutoscaler>;
  private podInf!: Informer<Pod>;
  private crdInf!: Informer<CustomResourceDefinition>;
  private readonly memory = new Map<string, HPAMemory>();
  private ticker?: NodeJS.Timeout;

  constructor(private readonly hpaOpts: HPAControllerOptions = {}) {
    super({ workers: 2, ...hpaOpts });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.hpaInf = ctx.informers.for<HorizontalPodAutoscaler>(R.horizontalpodautoscalers);
    this.podInf = indexByNamespace(ctx.informers.for<Pod>(R.pods));
    this.crdInf = ctx.informers.for<CustomResourceDefinition>(R.customresourcedefinitions);
    this.hpaInf.on({
      add: (h) => this.enqueue(objectKey(h)),
      update: (o, h) => o.metadata.generation !== h.metadata.generation && this.enqueue(objectKey(h)),
      delete: (h) => this.memory.delete(objectKey(h)),
    });
    const period = (this.hpaOpts.syncPeriodSeconds ?? ctx.config.hpaSyncPeriodSeconds ?? 15) * 1000;
    this.ticker = setInterval(() => {
      for (const h of this.hpaInf.list()) this.enqueue(objectKey(h));
    }, period);
    this.ticker.unref();
    return [this.hpaInf, this.podInf, this.crdInf];
  }

  override async stop(): Promise<void> {
    clearInterval(this.ticker);
    await super.stop();
  }

  /** The resource of a scale target: the built-in workloads, or a custom resource with a scale subresource. */
  private targetResource(apiVersion: string | undefined, kind: string): ResourceInfo | undefined {
    const builtin = apiVersion ? byKind(apiVersion, kind) : SCALABLE.find((r) => r.kind === kind);
    if (builtin) return builtin;
    const group = apiVersion?.includes('/') ? apiVersion.split('/')[0] : '';
    for (const crd of this.crdInf.list()) {
      if (crd.spec.group !== group || crd.spec.names.kind !== kind) continue;
      const version = apiVersion?.split('/')[1];
      return crdResources(crd).find((r) => r.version === version && r.subresources.includes('scale'));
    }
    return undefined;
  }

  private async readScale(hpa: HorizontalPodAutoscaler): Promise<{ res: ResourceInfo; replicas: number; pods: Pod[]; selector: string } | { error: string; reason?: 'FailedGetScale' | 'InvalidSelector' }> {
    const ref = hpa.spec.scaleTargetRef;
    const ns = hpa.metadata.namespace!;
    const res = this.targetResource(ref.apiVersion, ref.kind);
    if (!res) return { error: `no matches for kind "${ref.kind}" in group "${ref.apiVersion?.split('/')[0] ?? ''}"` };
    let scale: Scale;
    try {
      scale = await this.client.get<Scale>(res, ns, ref.name, 'scale');
    } catch (err) {
      if (isNotFound(err)) return { error: `${res.plural}/scale${res.group ? '.' + res.group : ''} "${ref.name}" not found` };
      return { error: errorMessage(err) };
    }
    const selector = scale.status?.selector;
    if (!selector) return { error: "the HPA target's scale is missing a selector", reason: 'InvalidSelector' };
    let match: (labels: Record<string, string> | undefined) => boolean;
    try {
      match = parseLabelSelector(selector);
    } catch (err) {
      return { error: `couldn't convert selector into a corresponding internal selector object: ${errorMessage(err)}`, reason: 'InvalidSelector' };
    }
    const pods = this.podInf.byIndex(NAMESPACE_INDEX, ns).filter((p) => match(p.metadata.labels));
    return { res, replicas: scale.spec?.replicas ?? 0, pods, selector };
  }

  protected async reconcile(key: string): Promise<void> {
    const hpa = this.hpaInf.getByKey(key);
    if (!hpa || hpa.metadata.deletionTimestamp) return;
    const ns = hpa.metadata.namespace!;
    const target = await this.readScale(hpa);
    let podMetrics: PodMetrics[] | { error: string } | undefined;
    const metricsOf = (resource: ResourceName, container?: string): Map<string, PodMetric> | { error: string } => {
      if (!podMetrics) return { error: 'no metrics read' };
      if ('error' in podMetrics) return podMetrics;
      const out = new Map<string, PodMetric>();
      for (const m of podMetrics) {
        let value = 0;
        for (const c of m.containers) {
          if (container && c.name !== container) continue;
          const q = parseQuantity(c.usage[resource]);
          value += resource === 'cpu' ? q * 1000 : q;
        }
        out.set(m.metadata.name!, { value: Math.round(value), timestamp: Date.parse(m.timestamp), windowMs: parseFloat(m.window) * 1000 });
      }
      return out;
    };
    if (!('error' in target)) {
      try {
        podMetrics = (await this.client.list<PodMetrics>(METRICS.pods, { namespace: ns, labelSelector: target.selector })).items;
      } catch (err) {
        podMetrics = { error: errorMessage(err) };
      }
    }
    const memory = this.memory.get(key) ?? emptyMemory();
    const plan = planHPA({
      hpa,
      scale: 'error' in target ? target : { replicas: target.replicas, pods: target.pods },
      metrics: metricsOf,
      memory,
      now: this.now().getTime(),
      downscaleStabilizationSeconds: this.ctx.config.hpaDownscaleStabilizationSeconds,
    });
    let status = plan.status;
    let kept = plan.memory;
    if (plan.rescaleTo !== undefined && !('error' in target)) {
      try {
        await this.client.patch(target.res, ns, hpa.spec.scaleTargetRef.name, 'merge', { spec: { replicas: plan.rescaleTo } }, { subresource: 'scale' });
        status = { ...status, conditions: setAble(status.conditions, 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${plan.rescaleTo}`) };
      } catch (err) {
        kept = { ...plan.memory, scaleUpEvents: memory.scaleUpEvents, scaleDownEvents: memory.scaleDownEvents };
        status = { ...status, lastScaleTime: hpa.status?.lastScaleTime, desiredReplicas: hpa.status?.desiredReplicas ?? status.currentReplicas ?? 0, conditions: setAble(status.conditions, 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${errorMessage(err)}`) };
        plan.events.push({ type: 'Warning', reason: 'FailedRescale', message: `New size: ${plan.rescaleTo}; reason: ${plan.rescaleReason}; error: ${errorMessage(err)}` });
      }
    }
    this.memory.set(key, kept);
    for (const e of plan.events) this.recorder.record(hpa as KObject, e.type, e.reason, e.message);
    if (statusEqual(hpa.status, status)) return;
    try {
      await this.client.update<HorizontalPodAutoscaler>(R.horizontalpodautoscalers, { ...hpa, status }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function setAble(conditions: NonNullable<HorizontalPodAutoscaler['status']>['conditions'], status: 'True' | 'False', reason: string, message: string) {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (conditions ?? []).map((c) => (c.type === 'AbleToScale' ? { ...c, status, reason, message, lastTransitionTime: c.status === status ? c.lastTransitionTime : now } : c));
}

// The Endpoints and EndpointSlice controller (Kubernetes' pkg/controller/endpoint and endpointslice in
// one loop): informers on Services, Pods, Endpoints and EndpointSlices; handlers only enqueue the keys
// of the Services concerned; a worker computes the desired objects (endpoints.ts, pure) from the caches
// and writes only what differs. Endpoints are written first: the proxier and DNS read them, so a Pod
// turning Ready or unready reaches the data plane after one write.

import type { EndpointSlice, Endpoints, Pod, Service } from '../api/types.js';
import { R, type ResourceInfo } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { Informer } from '../client/informer.js';
import { QueueController, type ControllerContext, type ControllerOptions, type Startable } from '../client/controller.js';
import { clone, deepEqual } from '../util/equal.js';
import {
  ENDPOINTS_MANAGED_BY,
  ENDPOINTS_MANAGED_BY_LABEL,
  OVER_CAPACITY_ANNOTATION,
  SERVICE_NAME_LABEL,
  SLICE_MANAGED_BY,
  SLICE_MANAGED_BY_LABEL,
  endpointSlicesFor,
  endpointsFor,
  hasSelector,
  podEndpointsChanged,
  sameSlice,
} from './endpoints.js';
import { mapSelectorMatcher } from '../api/selectors.js';
import { objectKey, splitKey } from '../api/keys.js';

const NS_INDEX = 'services:namespace';
const SLICE_SERVICE_INDEX = 'services:slice-service';

function isOurSlice(s: EndpointSlice): boolean {
  return s.metadata.labels?.[SLICE_MANAGED_BY_LABEL] === SLICE_MANAGED_BY;
}

function isOurEndpoints(e: Endpoints): boolean {
  return e.metadata.labels?.[ENDPOINTS_MANAGED_BY_LABEL] === ENDPOINTS_MANAGED_BY;
}

function sliceServiceKey(s: EndpointSlice): string | undefined {
  const name = s.metadata.labels?.[SERVICE_NAME_LABEL];
  return name ? `${s.metadata.namespace ?? 'default'}/${name}` : undefined;
}

export class EndpointsController extends QueueController {
  readonly name = 'endpoint-controller';
  private svcInf!: Informer<Service>;
  private podInf!: Informer<Pod>;
  private epInf!: Informer<Endpoints>;
  private sliceInf!: Informer<EndpointSlice>;
  /** Services seen deleted: their Endpoints go too, hand-written or not (as in Kubernetes). */
  private readonly deleted = new Set<string>();

  constructor(opts: ControllerOptions = {}) {
    super({ workers: 4, baseDelayMs: 5, ...opts });
  }

  protected setup(ctx: ControllerContext): Startable[] {
    this.svcInf = ctx.informers.for<Service>(R.services).addIndex(NS_INDEX, (s) => [s.metadata.namespace ?? 'default']);
    this.podInf = ctx.informers.for<Pod>(R.pods).addIndex(NS_INDEX, (p) => [p.metadata.namespace ?? 'default']);
    this.epInf = ctx.informers.for<Endpoints>(R.endpoints);
    this.sliceInf = ctx.informers.for<EndpointSlice>(R.endpointslices).addIndex(SLICE_SERVICE_INDEX, (s) => {
      const k = sliceServiceKey(s);
      return k ? [k] : [];
    });

    this.svcInf.on({
      add: (s) => this.enqueue(objectKey(s)),
      update: (_o, s) => this.enqueue(objectKey(s)),
      delete: (s) => {
        this.deleted.add(objectKey(s));
        this.enqueue(objectKey(s));
      },
    });
    this.podInf.on({
      add: (p) => this.enqueueServicesOf(p),
      update: (o, p) => {
        if (!podEndpointsChanged(o, p)) return;
        this.enqueueServicesOf(p, o);
      },
      delete: (p) => this.enqueueServicesOf(p),
    });
    // Our own writes come back here and find nothing to do; a hand edit or deletion gets repaired.
    this.epInf.on({
      add: (e) => this.endpointsEvent(e),
      update: (_o, e) => this.endpointsEvent(e),
      delete: (e) => this.endpointsEvent(e),
    });
    this.sliceInf.on({
      add: (s) => this.sliceEvent(s),
      update: (_o, s) => this.sliceEvent(s),
      delete: (s) => this.sliceEvent(s),
    });
    return [this.svcInf, this.podInf, this.epInf, this.sliceInf];
  }

  private enqueueServicesOf(pod: Pod, old?: Pod): void {
    const ns = pod.metadata.namespace ?? 'default';
    for (const svc of this.svcInf.byIndex(NS_INDEX, ns)) {
      if (!hasSelector(svc)) continue;
      const match = mapSelectorMatcher(svc.spec.selector!);
      if (match(pod.metadata.labels) || (old && match(old.metadata.labels))) this.enqueue(objectKey(svc));
    }
  }

  private endpointsEvent(e: Endpoints): void {
    const key = objectKey(e);
    const svc = this.svcInf.getByKey(key);
    if (svc ? hasSelector(svc) : isOurEndpoints(e)) this.enqueue(key);
  }

  private sliceEvent(s: EndpointSlice): void {
    if (!isOurSlice(s)) return;
    const key = sliceServiceKey(s);
    if (key) this.enqueue(key);
  }

  protected async reconcile(key: string): Promise<void> {
    const { namespace: ns = 'default', name } = splitKey(key);
    const svc = this.svcInf.get(ns, name);
    if (!svc) return this.removeFor(key);
    this.deleted.delete(key);
    const type = svc.spec?.type ?? 'ClusterIP';
    // Without a selector the Endpoints are the user's (or another component's, such as kube-dns): hands off.
    if (!hasSelector(svc) || type === 'ExternalName') {
      await this.deleteSlices(key, () => true);
      return;
    }
    const pods = this.podInf.byIndex(NS_INDEX, ns);
    await this.syncEndpoints(endpointsFor(svc, pods));
    await this.syncSlices(key, endpointSlicesFor(svc, pods));
  }

  private async syncEndpoints(desired: Endpoints): Promise<void> {
    const current = this.epInf.get(desired.metadata.namespace, desired.metadata.name!);
    if (!current) {
      try {
        await this.client.create(R.endpoints, desired);
      } catch (err) {
        // The cache lags behind a create made a moment ago: the update event brings us back.
        if (!isStatusError(err, 'AlreadyExists')) throw err;
      }
      return;
    }
    const annotations = { ...(current.metadata.annotations ?? {}) };
    delete annotations[OVER_CAPACITY_ANNOTATION];
    Object.assign(annotations, desired.metadata.annotations ?? {});
    if (
      deepEqual(current.metadata.labels ?? {}, desired.metadata.labels ?? {}) &&
      deepEqual(current.metadata.annotations ?? {}, annotations) &&
      deepEqual(current.subsets ?? [], desired.subsets ?? [])
    ) {
      return;
    }
    const next = clone(current);
    next.metadata.labels = desired.metadata.labels;
    if (Object.keys(annotations).length) next.metadata.annotations = annotations;
    else delete next.metadata.annotations;
    if (desired.subsets) next.subsets = desired.subsets;
    else delete next.subsets;
    await this.client.update(R.endpoints, next);
  }

  private async syncSlices(key: string, desired: EndpointSlice[]): Promise<void> {
    const current = new Map<string, EndpointSlice>();
    for (const s of this.sliceInf.byIndex(SLICE_SERVICE_INDEX, key)) if (isOurSlice(s)) current.set(s.metadata.name!, s);
    const { namespace: ns = 'default' } = splitKey(key);
    // Creates and updates before deletes, so a consumer never sees the Service without its endpoints.
    for (const want of desired) {
      const name = want.metadata.name!;
      const have = current.get(name);
      current.delete(name);
      if (!have) {
        const other = this.sliceInf.get(ns, name);
        if (other) {
          this.log.warn({ slice: `${ns}/${name}` }, 'an EndpointSlice not managed by kubelite has the name kubelite wants: left alone');
          continue;
        }
        try {
          await this.client.create(R.endpointslices, want);
        } catch (err) {
          if (!isStatusError(err, 'AlreadyExists')) throw err;
        }
        continue;
      }
      if (sameSlice(have, want)) continue;
      const next = clone(have);
      next.metadata.labels = want.metadata.labels;
      if (want.metadata.ownerReferences) next.metadata.ownerReferences = want.metadata.ownerReferences;
      next.addressType = want.addressType;
      next.endpoints = want.endpoints;
      next.ports = want.ports;
      await this.client.update(R.endpointslices, next);
    }
    for (const stale of current.values()) await this.deleteIgnoringMissing(R.endpointslices, stale);
  }

  private async deleteSlices(key: string, which: (s: EndpointSlice) => boolean): Promise<void> {
    for (const s of this.sliceInf.byIndex(SLICE_SERVICE_INDEX, key)) if (isOurSlice(s) && which(s)) await this.deleteIgnoringMissing(R.endpointslices, s);
  }

  /** The Service is gone: its Endpoints (when it was seen deleted, or when we wrote them) and our slices go too. */
  private async removeFor(key: string): Promise<void> {
    const { namespace: ns = 'default', name } = splitKey(key);
    const ep = this.epInf.get(ns, name);
    if (ep && (this.deleted.has(key) || isOurEndpoints(ep))) await this.deleteIgnoringMissing(R.endpoints, ep);
    await this.deleteSlices(key, () => true);
    this.deleted.delete(key);
  }

  private async deleteIgnoringMissing(res: ResourceInfo, obj: Endpoints | EndpointSlice): Promise<void> {
    try {
      await this.client.delete(res, obj.metadata.namespace, obj.metadata.name!, { preconditions: { uid: obj.metadata.uid } });
    } catch (err) {
      if (!isStatusError(err, 'NotFound') && !isStatusError(err, 'Conflict')) throw err;
    }
  }
}

// The proxier's inputs (Services, Endpoints, EndpointSlices) and the proxy model built from them, kept
// per Service so that a change rebuilds only the Service it touches. Unchanged Services keep their
// ProxyService objects, which is what lets the renderer reuse their rules and the diff skip them.

import type { Endpoints, EndpointSlice, Service } from '../api/types.js';
import {
  buildServicePorts,
  compareProxyServices,
  endpointsServiceKey,
  type EndpointSource,
  type ModelOptions,
  type ModelProblem,
  type ProxyService,
} from './model.js';
import { objectKey } from '../api/keys.js';

/** What changed in the model since the previous `current()`: whole service ports, old and new objects. */
export interface ModelDelta {
  removed: ProxyService[];
  added: ProxyService[];
}

export class ModelCache {
  private readonly services = new Map<string, Service>();
  /** Endpoints share their Service's key. */
  private readonly endpoints = new Map<string, Endpoints>();
  /** slice key -> slice, and service key -> its slice keys. */
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly built = new Map<string, { ports: ProxyService[]; problems: ModelProblem[] }>();
  private readonly dirty = new Set<string>();
  private model: ProxyService[] = [];
  /** Position of each model object, for swapping changed service ports in place. */
  private index = new Map<ProxyService, number>();
  private problems: ModelProblem[] = [];

  constructor(private readonly opts: Omit<ModelOptions, 'onProblem'>) {}

  setServices(services: Service[]): void {
    for (const k of this.services.keys()) this.dirty.add(k);
    this.services.clear();
    for (const s of services) this.upsertService(s);
  }

  setEndpoints(items: EndpointSource[]): void {
    for (const k of this.endpoints.keys()) this.dirty.add(k);
    for (const k of this.slicesByService.keys()) this.dirty.add(k);
    this.endpoints.clear();
    this.slices.clear();
    this.slicesByService.clear();
    for (const e of items) this.upsertEndpoints(e);
  }

  upsertService(svc: Service): void {
    const k = objectKey(svc);
    if (this.services.get(k) === svc) return;
    this.services.set(k, svc);
    this.dirty.add(k);
  }

  /** True when something was removed. */
  deleteService(key: string): boolean {
    if (!this.services.delete(key)) return false;
    this.dirty.add(key);
    return true;
  }

  upsertEndpoints(e: EndpointSource): void {
    if (e.kind !== 'EndpointSlice') {
      const k = objectKey(e);
      this.endpoints.set(k, e as Endpoints);
      this.dirty.add(k);
      return;
    }
    const sliceKey = objectKey(e);
    this.removeSlice(sliceKey);
    const svcKey = endpointsServiceKey(e);
    this.slices.set(sliceKey, e as EndpointSlice);
    if (svcKey === undefined) return;
    (this.slicesByService.get(svcKey) ?? this.slicesByService.set(svcKey, new Set()).get(svcKey)!).add(sliceKey);
    this.dirty.add(svcKey);
  }

  /** `key` is `namespace/name` of the Endpoints or of the EndpointSlice. True when something was removed. */
  deleteEndpoints(key: string, kind: 'Endpoints' | 'EndpointSlice' = 'Endpoints'): boolean {
    if (kind === 'EndpointSlice') return this.removeSlice(key);
    if (!this.endpoints.delete(key)) return false;
    this.dirty.add(key);
    return true;
  }

  private removeSlice(sliceKey: string): boolean {
    const old = this.slices.get(sliceKey);
    if (!old) return false;
    this.slices.delete(sliceKey);
    const svcKey = endpointsServiceKey(old);
    if (svcKey !== undefined) {
      const set = this.slicesByService.get(svcKey);
      set?.delete(sliceKey);
      if (set && set.size === 0) this.slicesByService.delete(svcKey);
      this.dirty.add(svcKey);
    }
    return true;
  }

  /** A Service with slices uses its slices only (as buildProxyModel does). */
  private sourcesFor(svcKey: string): EndpointSource[] {
    const sliceKeys = this.slicesByService.get(svcKey);
    if (sliceKeys && sliceKeys.size > 0) return [...sliceKeys].map((k) => this.slices.get(k)!);
    const e = this.endpoints.get(svcKey);
    return e ? [e] : [];
  }

  /**
   * The current model, sorted like buildProxyModel's; rebuilt only for Services that changed. `delta`
   * names the service ports that left and those that came (a changed one is in both) since the last
   * call, so a data plane can do work in proportion to the change.
   */
  current(): { model: ProxyService[]; problems: ModelProblem[]; delta: ModelDelta } {
    if (this.dirty.size === 0) return { model: this.model, problems: this.problems, delta: { removed: [], added: [] } };
    const delta: ModelDelta = { removed: [], added: [] };
    let problemsChanged = false;
    // The same service ports in the same order for every changed Service: the new objects take the old
    // ones' places, without sorting 10,000 entries again.
    let inPlace = true;
    for (const k of this.dirty) {
      const old = this.built.get(k);
      const svc = this.services.get(k);
      if (old) {
        delta.removed.push(...old.ports);
        if (old.problems.length) problemsChanged = true;
      }
      if (!svc) {
        this.built.delete(k);
        inPlace = false;
        continue;
      }
      const problems: ModelProblem[] = [];
      const ports = buildServicePorts(svc, this.sourcesFor(k), { ...this.opts, onProblem: (p) => problems.push(p) });
      this.built.set(k, { ports, problems });
      delta.added.push(...ports);
      if (problems.length) problemsChanged = true;
      if (!old || old.ports.length !== ports.length || old.ports.some((p, i) => compareProxyServices(p, ports[i]) !== 0)) inPlace = false;
    }
    this.dirty.clear();
    if (inPlace) {
      // A new array (callers keep the previous one to compare with), the changed entries swapped.
      const model = this.model.slice();
      for (let i = 0; i < delta.removed.length; i++) {
        const at = this.index.get(delta.removed[i])!;
        model[at] = delta.added[i];
        this.index.delete(delta.removed[i]);
        this.index.set(delta.added[i], at);
      }
      this.model = model;
    } else {
      const model: ProxyService[] = [];
      for (const b of this.built.values()) for (const p of b.ports) model.push(p);
      this.setModel(model.sort(compareProxyServices));
    }
    if (problemsChanged || this.problems.length) {
      const problems: ModelProblem[] = [];
      for (const b of this.built.values()) for (const p of b.problems) problems.push(p);
      this.problems = problems;
    }
    return { model: this.model, problems: this.problems, delta };
  }

  private setModel(model: ProxyService[]): void {
    this.model = model;
    this.index = new Map(model.map((p, i) => [p, i]));
  }
}

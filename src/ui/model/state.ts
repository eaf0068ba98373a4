// The page's copy of the cluster: the slim objects of the stream, by kind and key, updated by the
// snapshot and change messages. Pure (no DOM), so the road can be built and tested anywhere.

import { wkey, type WDeployment, type WEvent, type WIngress, type WNode, type WObject, type WPod, type WReplicaSet, type WService, type WSlice } from '../wire.js';

/** How many Events the ticker keeps (newest first). */
export const MAX_EVENTS = 50;

export class ClusterState {
  pods = new Map<string, WPod>();
  services = new Map<string, WService>();
  slices = new Map<string, WSlice>();
  ingresses = new Map<string, WIngress>();
  deployments = new Map<string, WDeployment>();
  replicasets = new Map<string, WReplicaSet>();
  events = new Map<string, WEvent>();
  namespaces: string[] = [];
  nodes: WNode[] = [];
  /** Bumped on every change, so views can memoise on it. */
  version = 0;

  private mapOf(kind: string): Map<string, WObject> | undefined {
    switch (kind) {
      case 'Pod':
        return this.pods as Map<string, WObject>;
      case 'Service':
        return this.services as Map<string, WObject>;
      case 'EndpointSlice':
        return this.slices as Map<string, WObject>;
      case 'Ingress':
        return this.ingresses as Map<string, WObject>;
      case 'Deployment':
        return this.deployments as Map<string, WObject>;
      case 'ReplicaSet':
        return this.replicasets as Map<string, WObject>;
      case 'Event':
        return this.events as Map<string, WObject>;
      default:
        return undefined;
    }
  }

  /** A fresh snapshot replaces everything (the resync after a reconnect). */
  reset(objects: WObject[], namespaces: string[], nodes: WNode[]): void {
    for (const m of [this.pods, this.services, this.slices, this.ingresses, this.deployments, this.replicasets, this.events]) m.clear();
    for (const o of objects) this.mapOf(o.kind)?.set(wkey(o), o);
    this.namespaces = namespaces;
    this.nodes = nodes;
    this.trimEvents();
    this.version++;
  }

  apply(put: WObject[], del: string[]): void {
    for (const key of del) this.mapOf(key.slice(0, key.indexOf('/')))?.delete(key);
    for (const o of put) this.mapOf(o.kind)?.set(wkey(o), o);
    if (put.some((o) => o.kind === 'Event')) this.trimEvents();
    this.version++;
  }

  setNamespaces(names: string[]): void {
    this.namespaces = names;
    this.version++;
  }

  setNodes(nodes: WNode[]): void {
    this.nodes = nodes;
    this.version++;
  }

  /** Events newest first. */
  recentEvents(): WEvent[] {
    return [...this.events.values()].sort((a, b) => (a.last < b.last ? 1 : a.last > b.last ? -1 : 0));
  }

  private trimEvents(): void {
    if (this.events.size <= MAX_EVENTS) return;
    for (const e of this.recentEvents().slice(MAX_EVENTS)) this.events.delete(wkey(e));
  }
}

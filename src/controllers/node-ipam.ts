// The node IPAM controller (kube-controller-manager's nodeipam, range allocator): a Node without a
// spec.podCIDR gets the next free share of --pod-cidr. The map of shares in use is rebuilt from the
// Nodes when the caches sync and follows them; one worker, so two Nodes never get one share. It is
// cluster-wide work: with several servers it runs on the leader only. When the range is exhausted the
// Node gets a Warning Event (CIDRNotAvailable, as Kubernetes records) and an annotation its agent
// reads, so the agent fails with the reason instead of waiting.

import type { Node } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type Startable } from '../client/controller.js';
import { heldShares, planNodeCIDR, POD_CIDR_ERROR_ANNOTATION, shareIndex, type NodeCIDRConfig } from './logic/node-ipam.js';
import { isNotFound } from './shared.js';

export class NodeIpamController extends QueueController<ComponentContext> implements Component {
  readonly name = 'node-ipam-controller';
  private nodes!: Informer<Node>;
  private cfg!: NodeCIDRConfig;
  /** share index -> node name */
  private held = new Map<number, string>();

  constructor() {
    super({ workers: 1, baseDelayMs: 100 });
  }

  protected override get eventSource(): string {
    return 'cidrAllocator';
  }

  protected setup(ctx: ComponentContext): Startable[] {
    const { config } = ctx;
    this.cfg = {
      clusterCIDR: config.podCIDR,
      maskSize: config.nodeCIDRMaskSize,
      firstShareFor: config.disabled.has('agent') ? undefined : config.nodeName,
    };
    this.nodes = ctx.informers.for<Node>(R.nodes);
    this.nodes.on({
      add: (n) => this.enqueue(n.metadata.name!),
      update: (o, n) => {
        if (o.spec?.podCIDR !== n.spec?.podCIDR || !n.spec?.podCIDR) this.enqueue(n.metadata.name!);
      },
      delete: (n) => this.enqueue(n.metadata.name!),
    });
    return [this.nodes];
  }

  protected override synced(): void {
    this.held = heldShares(this.nodes.list(), this.cfg);
  }

  protected async reconcile(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    // Shares follow the Nodes: a deleted Node's share is free again.
    for (const [i, holder] of this.held) if (holder === name && (!node || shareIndex(this.cfg, node.spec?.podCIDR) !== i)) this.held.delete(i);
    if (!node || node.metadata.deletionTimestamp) return;
    const have = shareIndex(this.cfg, node.spec?.podCIDR);
    if (have !== undefined) {
      const holder = this.held.get(have);
      if (holder === undefined) this.held.set(have, name);
      else if (holder !== name) this.recorder.warning(node, 'CIDRAssignmentFailed', `Node ${name} has pod CIDR ${node.spec?.podCIDR}, which node ${holder} holds too`);
      return;
    }
    const d = planNodeCIDR(node, this.held, this.cfg);
    if (d.op === 'none') return;
    if (d.op === 'exhausted') {
      this.recorder.warning(node, 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable (${d.message})`);
      if (node.metadata.annotations?.[POD_CIDR_ERROR_ANNOTATION] !== d.message) {
        await this.client.patch(R.nodes, undefined, name, 'merge', { metadata: { annotations: { [POD_CIDR_ERROR_ANNOTATION]: d.message } } }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      }
      // A share may come free (a Node deleted): look again then, and now and then.
      this.enqueueAfter(name, 5000);
      return;
    }
    this.held.set(d.index, name);
    try {
      await this.client.patch(R.nodes, undefined, name, 'merge', {
        metadata: { annotations: { [POD_CIDR_ERROR_ANNOTATION]: null } },
        spec: { podCIDR: d.cidr, podCIDRs: [d.cidr] },
      });
    } catch (err) {
      this.held.delete(d.index);
      if (isNotFound(err)) return;
      throw err;
    }
    this.log.info({ node: name, podCIDR: d.cidr }, 'pod CIDR assigned');
  }
}

export function createNodeIpam(): Component {
  return new NodeIpamController();
}

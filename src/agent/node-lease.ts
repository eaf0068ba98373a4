// The agent's side of node health: it registers its Node (without a pod CIDR: the server's node IPAM
// assigns one, and the agent waits for it, or fails with the reason the server gives), and it renews
// the node's Lease in kube-node-lease every --node-lease-renew-interval (1 s), the heartbeat the node
// lifecycle controller watches. A renewal that fails (the server is away) is only retried: the Pods
// keep running, and the next renewal that gets through makes the node healthy again.

import type { Lease } from '../api/types-coordination.js';
import type { Node } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { ApiClient } from '../client/types.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const POD_CIDR_ERROR_ANNOTATION = 'kubelite.io/pod-cidr-error';

type Log = { warn(o: unknown, m?: string): void; info(o: unknown, m?: string): void; debug(o: unknown, m?: string): void };

/** MicroTime as Kubernetes writes it: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Lease object of a node (owned by its Node, so it goes when the Node goes). Pure. */
export function nodeLease(node: Node, durationSeconds: number, nowMs: number, prev?: Lease): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...(prev?.metadata ?? {}),
      name: node.metadata.name,
      namespace: NODE_LEASE_NAMESPACE,
      ownerReferences: node.metadata.uid ? [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name!, uid: node.metadata.uid }] : prev?.metadata.ownerReferences,
    },
    spec: { ...prev?.spec, holderIdentity: node.metadata.name, leaseDurationSeconds: durationSeconds, renewTime: microTime(nowMs) },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates the Node if it does not exist (or brings labels and kubelet port up to date) and waits for
 * its spec.podCIDR. Rejects with the server's reason when the pod CIDR is exhausted.
 */
export async function registerNode(client: ApiClient, desired: Node, opts: { timeoutMs?: number; log: Log; stopped?: () => boolean }): Promise<Node> {
  const name = desired.metadata.name!;
  let node: Node | undefined;
  try {
    node = await client.get<Node>(R.nodes, undefined, name);
  } catch (err) {
    if (!isStatusError(err, 'NotFound')) throw err;
  }
  if (!node) {
    try {
      node = await client.create<Node>(R.nodes, { ...desired, status: undefined } as Node);
    } catch (err) {
      if (!isStatusError(err, 'AlreadyExists')) throw err;
      node = await client.get<Node>(R.nodes, undefined, name);
    }
  } else {
    const labels = { ...node.metadata.labels, ...desired.metadata.labels };
    if (JSON.stringify(labels) !== JSON.stringify(node.metadata.labels ?? {})) {
      node = await client.update<Node>(R.nodes, { ...node, metadata: { ...node.metadata, labels } });
    }
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let delay = 20;
  let said = false;
  for (;;) {
    if (node.spec?.podCIDR) return node;
    const err = node.metadata.annotations?.[POD_CIDR_ERROR_ANNOTATION];
    if (err) throw new Error(`node ${name} has no pod CIDR: ${err}`);
    if (opts.stopped?.()) throw new Error('stopped');
    if (Date.now() > deadline) throw new Error(`node ${name} got no pod CIDR from the server within ${Math.round((opts.timeoutMs ?? 60_000) / 1000)}s: is the server's node IPAM (its leader) running?`);
    if (!said && delay >= 640) {
      opts.log.info({ node: name }, 'waiting for the server to assign this node a pod CIDR');
      said = true;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
    node = await client.get<Node>(R.nodes, undefined, name);
  }
}

/** Renews the node's Lease every `intervalMs` until stopped. */
export class LeaseRenewer {
  private timer?: NodeJS.Timeout;
  private lease?: Lease;
  private stopped = false;
  private failing = false;
  /** When the last renewal got through (ms). */
  lastRenewed = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly node: () => Node,
    private readonly intervalMs: number,
    private readonly log: Log,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      const t0 = Date.now();
      // A server that does not answer (paused, cut off) must not hold the renewals up: try again next tick.
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(2000, this.intervalMs * 3))));
      await Promise.race([this.renew().catch(() => undefined), limit]);
      clearTimeout(timer);
      if (!this.stopped) this.timer = setTimeout(tick, Math.max(0, this.intervalMs - (Date.now() - t0)));
      this.timer?.unref?.();
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async renew(): Promise<void> {
    const node = this.node();
    const duration = Math.max(1, Math.ceil((this.intervalMs * 4) / 1000));
    try {
      if (!this.lease) {
        try {
          this.lease = await this.client.get<Lease>(R.leases, NODE_LEASE_NAMESPACE, node.metadata.name!);
        } catch (err) {
          if (!isStatusError(err, 'NotFound')) throw err;
          this.lease = await this.client.create<Lease>(R.leases, nodeLease(node, duration, Date.now()));
          this.ok();
          return;
        }
      }
      this.lease = await this.client.update<Lease>(R.leases, nodeLease(node, duration, Date.now(), this.lease));
      this.ok();
    } catch (err) {
      // Conflict (someone else wrote it) or gone: read it again next time.
      this.lease = undefined;
      if (!this.failing) this.log.warn({ err: (err as Error).message }, 'node lease renewal failed; retrying (the Pods keep running)');
      this.failing = true;
      throw err;
    }
  }

  private ok(): void {
    this.lastRenewed = Date.now();
    if (this.failing) this.log.info({}, 'node lease renewed again');
    this.failing = false;
  }
}

// etcd keeps every revision until it is compacted; kube-apiserver compacts every 5 minutes to the
// revision it saw one interval earlier, and so does this. Several servers share the work through one
// key: each interval, whoever first moves P/meta/compact's version from the value it last saw does the
// compaction, the others only learn the new version (kube-apiserver's compact_rev_key scheme).

import type { Namespace } from 'etcd3';
import type { Logger } from '../util/log.js';

export class EtcdCompactor {
  private timer: NodeJS.Timeout | undefined;
  /** The version of the compact key this server last saw. */
  private seenVersion = 0;
  /** The revision observed one interval ago: what the next compaction goes to. */
  private pendingRev = 0;
  private running = false;

  constructor(
    private readonly client: Namespace,
    private readonly compactKey: string,
    private readonly intervalMs: number,
    private readonly logger?: Logger,
    private readonly onCompacted?: (revision: number) => void,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round (also called directly by tests). Never throws: a failed round is retried next interval. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const key = Buffer.from(this.compactKey);
      const current = Number((await this.client.kv.range({ key, count_only: true })).header.revision);
      const res = await this.client.kv.txn({
        compare: [{ key, target: 'Version', result: 'Equal', version: this.seenVersion }],
        success: [{ request_put: { key, value: Buffer.from(String(this.pendingRev)) } }],
        failure: [{ request_range: { key } }],
      });
      if (!res.succeeded) {
        // Another server compacted this interval; follow its count.
        this.seenVersion = Number(res.responses[0]?.response_range?.kvs?.[0]?.version ?? 0);
      } else {
        this.seenVersion++;
        if (this.pendingRev > 0) {
          await this.client.kv.compact({ revision: this.pendingRev });
          this.logger?.info({ revision: this.pendingRev }, 'etcd compacted');
          this.onCompacted?.(this.pendingRev);
        }
      }
      this.pendingRev = current;
    } catch (err) {
      const msg = (err as Error).message;
      // Compacting to a revision someone already compacted past is fine.
      if (!/required revision has been compacted/.test(msg)) this.logger?.warn({ err: msg }, 'etcd compaction round failed');
    } finally {
      this.running = false;
    }
  }
}

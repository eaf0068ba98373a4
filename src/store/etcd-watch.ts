// One etcd watch on every object under the prefix, with previous values, feeding the watch cache.
// It resumes after a broken stream from the revision after the last event it delivered (so nothing is
// missed or repeated), backs off while etcd is away, and reports a compacted start revision, after
// which the cache must re-read everything.

import type { IEvent, IWatchRequest, IWatchResponse, Namespace } from 'etcd3';
import type { Logger } from '../util/log.js';
import { prefixRangeEnd } from './etcd-config.js';

export interface WatchFeedHandlers {
  /** Events of one response, in revision order (a transaction's events share a revision). */
  onEvents(events: IEvent[], headerRevision: number): void;
  /** etcd compacted past the revision the feed must resume from: re-read, then start() again. */
  onCompacted(compactRevision: number): void;
  /** Connection state changes, for health. */
  onState(connected: boolean, err?: Error): void;
}

interface Stream {
  write(req: IWatchRequest): void;
  on(ev: 'data', fn: (res: IWatchResponse) => void): Stream;
  on(ev: 'error', fn: (err: Error) => void): Stream;
  on(ev: 'end', fn: () => void): Stream;
  cancel(): void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export class EtcdWatchFeed {
  private stream: Stream | undefined;
  private nextRev = 0;
  private stopped = true;
  private backoff = MIN_BACKOFF_MS;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped per stream so late callbacks of a replaced stream are ignored. */
  private generation = 0;
  connected = false;

  constructor(
    private readonly client: Namespace,
    private readonly prefix: string,
    private readonly handlers: WatchFeedHandlers,
    private readonly logger?: Logger,
  ) {}

  /** Watches every change from `fromRevision` (inclusive). */
  start(fromRevision: number): void {
    this.stopped = false;
    this.nextRev = fromRevision;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.timer);
    this.stream?.cancel();
    this.stream = undefined;
    this.connected = false;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    let stream: Stream;
    try {
      stream = (await this.client.watchClient.watch()) as unknown as Stream;
    } catch (err) {
      if (gen === this.generation) this.fail(err as Error);
      return;
    }
    if (gen !== this.generation || this.stopped) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (res) => {
      if (gen === this.generation) this.onResponse(res);
    });
    stream.on('error', (err) => {
      if (gen === this.generation) this.fail(err);
    });
    stream.on('end', () => {
      if (gen === this.generation) this.fail(new Error('etcd ended the watch stream'));
    });
    const key = Buffer.from(this.prefix);
    stream.write({ create_request: { key, range_end: prefixRangeEnd(key), start_revision: this.nextRev, prev_kv: true, progress_notify: true } });
  }

  private onResponse(res: IWatchResponse): void {
    if (res.compact_revision && res.compact_revision !== '0') {
      // Our start revision is gone: only a fresh read can tell what changed since.
      this.stop();
      this.handlers.onCompacted(Number(res.compact_revision));
      return;
    }
    if (res.canceled) {
      this.fail(new Error(`etcd canceled the watch: ${res.cancel_reason || 'no reason given'}`));
      return;
    }
    if (res.created) {
      this.backoff = MIN_BACKOFF_MS;
      if (!this.connected) {
        this.connected = true;
        this.handlers.onState(true);
      }
    }
    const events = res.events ?? [];
    if (events.length > 0) {
      this.nextRev = Number(events[events.length - 1]!.kv.mod_revision) + 1;
      this.handlers.onEvents(events, Number(res.header.revision));
    }
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.generation++;
    this.stream?.cancel();
    this.stream = undefined;
    if (this.connected) this.logger?.warn({ err: err.message, resumeAt: this.nextRev }, 'etcd watch broken; reconnecting');
    this.connected = false;
    this.handlers.onState(false, err);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }
}

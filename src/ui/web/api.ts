// The page's conversations with the server: login/logout, one-off reads (events, logs), and the live
// stream with its reconnect back-off. All same-origin; the session is an HttpOnly cookie the page
// never sees.

import type { ServerMessage, WEvent } from '../wire.js';
import { SseParser } from './sse.js';

export class Unauthorized extends Error {}

async function failure(res: Response): Promise<Error> {
  let message = `HTTP ${res.status}`;
  try {
    const s = (await res.json()) as { message?: string };
    if (s?.message) message = s.message;
  } catch {
    /* not a Status */
  }
  return res.status === 401 ? new Unauthorized(message) : new Error(message);
}

/**
 * fetch, again after a network error (not an HTTP error): browsers abort requests in flight when the
 * machine's interfaces change (ERR_NETWORK_CHANGED), which on a Docker host happens all the time.
 */
async function fetchRetry(url: string, init: RequestInit, tries = 3): Promise<Response> {
  for (let i = 1; ; i++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (i >= tries || init.signal?.aborted) throw err;
      await new Promise((r) => setTimeout(r, 250 * i));
    }
  }
}

async function getJSON<T>(url: string): Promise<T> {
  const res = await fetchRetry(url, { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function login(body: { token: string } | { code: string }): Promise<void> {
  const res = await fetchRetry('/ui/api/login', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
}

export async function logout(): Promise<void> {
  await fetch('/ui/api/logout', { method: 'POST', credentials: 'same-origin' });
}

export async function hasSession(): Promise<boolean> {
  const res = await fetchRetry('/ui/api/session', { credentials: 'same-origin', cache: 'no-store' });
  return res.ok;
}

export function fetchEvents(namespace: string, uid?: string): Promise<{ items: WEvent[] }> {
  const q = new URLSearchParams({ namespace });
  if (uid) q.set('uid', uid);
  return getJSON(`/ui/api/events?${q}`);
}

export interface LogTail {
  lines: string[];
  cutLines: number;
  truncated: boolean;
}

export function fetchLogs(namespace: string, pod: string, container: string): Promise<LogTail> {
  const q = new URLSearchParams({ container });
  return getJSON(`/ui/api/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${q}`);
}

export type ConnState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'disconnected'; reason: string; retryAt: number }
  | { kind: 'unauthorized'; reason: string };

/** Silence longer than this means the connection is dead (the server sends something every second). */
const WATCHDOG_MS = 25_000;

/** 0.25 s, 0.5 s, 1 s, ... 10 s, each +-20%: a blip is healed at once, a server that is down is not hammered. */
export function backoffMs(attempt: number): number {
  const base = Math.min(10_000, 250 * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** The live stream of one namespace ('' = all): reconnects with back-off; every connect starts with a snapshot. */
export class LiveStream {
  private abort?: AbortController;
  private stopped = false;
  private attempt = 0;
  private retryTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly namespace: string,
    private readonly onMessage: (m: ServerMessage) => void,
    private readonly onState: (s: ConnState) => void,
  ) {}

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
  }

  /** Reconnect now (the user asked, or came back to the tab). */
  retryNow(): void {
    if (this.stopped || this.abort) return;
    clearTimeout(this.retryTimer);
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.onState({ kind: 'connecting' });
    const ac = new AbortController();
    this.abort = ac;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const pet = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => ac.abort(), WATCHDOG_MS);
    };
    let reason = 'the server closed the stream';
    try {
      pet();
      const res = await fetch(`/ui/api/stream?namespace=${encodeURIComponent(this.namespace)}`, { credentials: 'same-origin', cache: 'no-store', signal: ac.signal });
      if (res.status === 401) {
        clearTimeout(watchdog);
        this.abort = undefined;
        this.stopped = true;
        this.onState({ kind: 'unauthorized', reason: (await failure(res)).message });
        return;
      }
      if (!res.ok || !res.body) throw await failure(res);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      let first = true;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        pet();
        for (const payload of parser.push(decoder.decode(value, { stream: true }))) {
          const msg = JSON.parse(payload) as ServerMessage;
          if (first) {
            first = false;
            this.attempt = 0;
            this.onState({ kind: 'live' });
          }
          this.onMessage(msg);
        }
      }
    } catch (err) {
      reason = ac.signal.aborted && !this.stopped ? 'no word from the server for 25 s' : `the server cannot be reached (${(err as Error).message})`;
    } finally {
      clearTimeout(watchdog);
    }
    this.abort = undefined;
    if (this.stopped) return;
    const wait = backoffMs(this.attempt++);
    this.onState({ kind: 'disconnected', reason, retryAt: Date.now() + wait });
    this.retryTimer = setTimeout(() => void this.connect(), wait);
  }
}

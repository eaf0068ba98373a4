// The page: login (token pasted once, or the one-time code `kubelite ui` put in the URL fragment),
// then the live road of one namespace with its filters, the detail panel and the Event ticker.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { parseLabelSelector } from '../../api/selectors.js';
import type { ServerMessage } from '../wire.js';
import { ClusterState } from '../model/state.js';
import { CounterBook } from '../model/counters.js';
import { buildRoad, type GNode, type NodeRef } from '../model/road.js';
import { age } from '../model/format.js';
import { hasSession, login, logout, LiveStream, type ConnState } from './api.js';
import { layoutRoad, LayoutCache } from './layout.js';
import { Graph } from './graph.js';
import { Detail } from './detail.js';

type Auth = { kind: 'checking' } | { kind: 'in' } | { kind: 'out'; message: string };

const marked = new Set<string>();
/** User Timing marks of the first snapshot's way to the screen (read by bench/ui.ts); once each. */
function firstMark(name: string): void {
  if (marked.has(name)) return;
  marked.add(name);
  performance.mark(name);
}

export function App() {
  const [auth, setAuth] = useState<Auth>({ kind: 'checking' });
  useEffect(() => {
    // A login link from `kubelite ui`: the code is in the fragment (never sent to the server); take it
    // out of the address bar at once, then trade it for the session cookie.
    const m = /(?:^#|&)code=([A-Za-z0-9_-]{1,128})/.exec(location.hash);
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
    if (m) {
      login({ code: m[1] })
        .then(() => setAuth({ kind: 'in' }))
        .catch((err) => setAuth({ kind: 'out', message: (err as Error).message }));
      return;
    }
    hasSession()
      .then((ok) => setAuth(ok ? { kind: 'in' } : { kind: 'out', message: '' }))
      .catch(() => setAuth({ kind: 'out', message: 'the server cannot be reached' }));
  }, []);
  if (auth.kind === 'checking') return <div class="splash">kubelite…</div>;
  if (auth.kind === 'out') return <Login message={auth.message} onIn={() => setAuth({ kind: 'in' })} />;
  return (
    <Live
      onOut={(message) => setAuth({ kind: 'out', message })}
      onLogout={() => {
        void logout().then(() => setAuth({ kind: 'out', message: 'Logged out.' }));
      }}
    />
  );
}

function Login({ message, onIn }: { message: string; onIn(): void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(message);
  const [busy, setBusy] = useState(false);
  return (
    <div class="login">
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          setBusy(true);
          login({ token })
            .then(onIn)
            .catch((err) => {
              setError(`${(err as Error).message}: paste the token of this server again`);
              setToken('');
            })
            .finally(() => setBusy(false));
        }}
      >
        <h1>kubelite</h1>
        <p>Log in with the server's bearer token: the <code>token</code> in the kubeconfig or in the data dir (<code>/var/lib/kubelite/token</code>), or open the link <code>kubelite ui</code> prints.</p>
        <input id="token" type="password" autocomplete="off" spellcheck={false} placeholder="token" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={busy || !token}>
          Log in
        </button>
        {error && (
          <div class="error" role="alert" id="login-error">
            {error}
          </div>
        )}
      </form>
    </div>
  );
}

function readParams(): { ns: string; label: string; q: string } {
  const p = new URLSearchParams(location.search);
  return { ns: p.get('ns') ?? 'default', label: p.get('label') ?? '', q: p.get('q') ?? '' };
}

function writeParams(v: { ns: string; label: string; q: string }): void {
  const p = new URLSearchParams();
  if (v.ns !== 'default') p.set('ns', v.ns);
  if (v.label) p.set('label', v.label);
  if (v.q) p.set('q', v.q);
  const s = p.toString();
  history.replaceState(null, '', `${location.pathname}${s ? `?${s}` : ''}`);
}

function ConnBadge({ conn, onRetry }: { conn: ConnState; onRetry(): void }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (conn.kind !== 'disconnected') return;
    const t = setInterval(() => tick((x) => x + 1), 500);
    return () => clearInterval(t);
  }, [conn]);
  if (conn.kind === 'live') return <span class="conn live" id="conn" data-conn="live">● live</span>;
  if (conn.kind === 'connecting') return <span class="conn connecting" id="conn" data-conn="connecting">● connecting…</span>;
  if (conn.kind === 'unauthorized') return <span class="conn down" id="conn" data-conn="unauthorized">● not logged in</span>;
  const s = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
  return (
    <span class="conn down" id="conn" data-conn="disconnected" title={conn.reason}>
      ● disconnected — retrying in {s}s <button onClick={onRetry}>retry now</button>
    </span>
  );
}

function Live({ onOut, onLogout }: { onOut(msg: string): void; onLogout(): void }) {
  const initial = useMemo(readParams, []);
  const [ns, setNs] = useState(initial.ns);
  const [label, setLabel] = useState(initial.label);
  const [q, setQ] = useState(initial.q);
  const [conn, setConn] = useState<ConnState>({ kind: 'connecting' });
  const [domain, setDomain] = useState('cluster.local');
  const [selected, setSelected] = useState<{ id: string; ref: NodeRef } | undefined>();
  const [collapsed, setCollapsed] = useState<Map<string, boolean>>(new Map());
  const [, setFrame] = useState(0);
  const [minute, setMinute] = useState(0);
  const state = useRef(new ClusterState()).current;
  const book = useRef(new CounterBook()).current;
  const cache = useRef(new LayoutCache()).current;
  const stream = useRef<LiveStream>();
  const pending = useRef(false);

  // Changes arrive in bursts: draw once per frame (or 50 ms, whichever comes first).
  const redraw = useCallback(() => {
    if (pending.current) return;
    pending.current = true;
    const go = () => {
      if (!pending.current) return;
      pending.current = false;
      setFrame((f) => f + 1);
    };
    requestAnimationFrame(go);
    setTimeout(go, 50);
  }, []);

  useEffect(() => {
    const onMessage = (m: ServerMessage) => {
      switch (m.t) {
        case 'hello':
          setDomain(m.clusterDomain);
          return;
        case 'snapshot':
          state.reset(m.objects, m.namespaces, m.nodes);
          firstMark('kl:snapshot');
          break;
        case 'changes':
          state.apply(m.put, m.del);
          break;
        case 'namespaces':
          state.setNamespaces(m.names);
          break;
        case 'nodes':
          state.setNodes(m.nodes);
          break;
        case 'counters':
          if (m.full) book.reset();
          book.apply(m);
          break;
        case 'ping':
          return;
      }
      redraw();
    };
    const s = new LiveStream(ns === '*' ? '' : ns, onMessage, (c) => {
      setConn(c);
      if (c.kind === 'unauthorized') onOut(`${c.reason}: log in again`);
    });
    stream.current = s;
    s.start();
    const onVisible = () => document.visibilityState === 'visible' && s.retryNow();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      s.stop();
    };
  }, [ns]);

  useEffect(() => writeParams({ ns, label, q }), [ns, label, q]);
  useEffect(() => {
    const t = setInterval(() => setMinute((m) => m + 1), 10_000);
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setSelected(undefined);
    window.addEventListener('keydown', esc);
    return () => {
      clearInterval(t);
      window.removeEventListener('keydown', esc);
    };
  }, []);

  let labelError = '';
  let labelFilter: ((l: Record<string, string>) => boolean) | undefined;
  if (label.trim()) {
    try {
      labelFilter = parseLabelSelector(label.trim());
    } catch (err) {
      labelError = (err as Error).message;
    }
  }
  const now = Date.now();
  const road = useMemo(() => {
    const r = buildRoad(state, { now, clusterDomain: domain, labelFilter, search: q, collapsed });
    if (state.version > 0) firstMark('kl:road');
    return r;
  }, [state.version, label, q, collapsed, domain, minute]);
  const layout = useMemo(() => {
    const l = layoutRoad(road, cache);
    if (state.version > 0) firstMark('kl:layout');
    return l;
  }, [road]);
  useEffect(() => {
    if (state.version > 0) firstMark('kl:drawn');
  }, [layout]);
  const onSelect = useCallback((n: GNode) => n.ref && setSelected({ id: n.id, ref: n.ref }), []);
  const onToggle = useCallback((key: string, c: boolean) => setCollapsed((m) => new Map(m).set(key, c)), []);
  const selectRef = (ref: NodeRef) => {
    const id = ref.kind === 'Pod' ? `pod:${ref.namespace}/${ref.name}` : ref.kind === 'Service' ? `svc:${ref.namespace}/${ref.name}` : ref.kind === 'Group' ? `grp:${ref.name}` : `ing:${ref.namespace}/${ref.name}`;
    setSelected({ id, ref });
  };
  const events = state.recentEvents().slice(0, 6);
  const namespaces = state.namespaces.includes(ns) || ns === '*' ? state.namespaces : [ns, ...state.namespaces];

  return (
    <div class="app">
      <header>
        <span class="brand">kubelite</span>
        <label>
          namespace{' '}
          <select id="ns" value={ns} onChange={(e) => (setNs((e.target as HTMLSelectElement).value), setSelected(undefined))}>
            {namespaces.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
            <option value="*">all namespaces</option>
          </select>
        </label>
        <input id="label" class={labelError ? 'bad' : undefined} placeholder="label filter: app=web,tier!=db" title={labelError || 'Kubernetes label selector'} value={label} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
        <input id="search" placeholder="search by name" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <span class="stats" id="stats">
          {road.stats.shownServices}/{road.stats.services} Services · {road.stats.shownPods}/{road.stats.pods} Pods
        </span>
        <span class={`counters ${book.status.ok ? 'ok' : 'off'}`} id="counters" title={book.status.reason ?? 'per-endpoint DNAT rule counters, sampled every second'}>
          {book.status.ok ? 'kernel counters: live' : `counters: ${book.status.reason ?? 'unavailable'}`}
        </span>
        <span class="ro">read-only</span>
        <ConnBadge conn={conn} onRetry={() => stream.current?.retryNow()} />
        <button class="logout" onClick={onLogout}>
          log out
        </button>
      </header>
      {labelError && <div class="banner bad">label filter: {labelError}</div>}
      <div class="columns">
        <span>Users / other apps → entry points</span>
        <span>Service</span>
        <span>endpoints → Pods → containers</span>
      </div>
      <main>
        <div class="canvas">
          {road.nodes.length === 0 && conn.kind === 'live' ? (
            <div class="empty">Nothing here yet: no Services or Pods in {ns === '*' ? 'any namespace' : `namespace ${ns}`}{label || q ? ' match the filter' : ''}.</div>
          ) : (
            <Graph road={road} layout={layout} book={book} bookVersion={book.version} selected={selected?.id} allNamespaces={ns === '*'} onSelect={onSelect} onToggle={onToggle} />
          )}
        </div>
        {selected && <Detail sel={selected.ref} state={state} now={now} onSelect={selectRef} onClose={() => setSelected(undefined)} onUnauthorized={(m) => onOut(`${m}: log in again`)} />}
      </main>
      <footer class="ticker" id="ticker">
        {events.length === 0 ? (
          <span class="muted">no recent Events</span>
        ) : (
          events.map((e) => (
            <div key={e.meta.name} class={e.type === 'Warning' ? 'warning' : undefined}>
              <span class="when">{age(e.last, now)}</span> <b>{e.reason}</b> {e.object.kind} {e.object.name}: {e.message}
              {e.count > 1 ? ` (×${e.count})` : ''}
            </div>
          ))
        )}
      </footer>
    </div>
  );
}

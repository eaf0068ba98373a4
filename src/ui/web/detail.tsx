// The panel beside the road for the object clicked: a Pod (labels and the selectors they satisfy,
// annotations, conditions, containers, Events, the last 100 log lines), a Service (why each Pod is or
// is not in it), a Deployment group, an Ingress. Every value is rendered as text.

import { useEffect, useState } from 'preact/hooks';
import type { WEvent, WPod, WService } from '../wire.js';
import type { ClusterState } from '../model/state.js';
import { explainMembership, matchSelector, type MemberState } from '../model/membership.js';
import { groupOf, podState, podStatusText } from '../model/road-nodes.js';
import type { NodeRef } from '../model/road.js';
import { age } from '../model/format.js';
import { fetchEvents, fetchLogs, Unauthorized, type LogTail } from './api.js';

interface DetailProps {
  sel: NodeRef;
  state: ClusterState;
  now: number;
  onSelect(ref: NodeRef): void;
  onClose(): void;
  onUnauthorized(msg: string): void;
}

function useEvents(ns: string, uid: string | undefined, refreshKey: unknown, onUnauthorized: (m: string) => void): { items: WEvent[]; error?: string } {
  const [out, setOut] = useState<{ items: WEvent[]; error?: string }>({ items: [] });
  useEffect(() => {
    let live = true;
    fetchEvents(ns, uid)
      .then((r) => live && setOut({ items: r.items }))
      .catch((err) => {
        if (err instanceof Unauthorized) onUnauthorized(err.message);
        else if (live) setOut({ items: [], error: (err as Error).message });
      });
    return () => {
      live = false;
    };
  }, [ns, uid, refreshKey]);
  return out;
}

function KV({ entries, mark }: { entries: [string, string][]; mark?: (k: string, v: string) => string | undefined }) {
  if (entries.length === 0) return <div class="muted">none</div>;
  return (
    <ul class="kv">
      {entries.map(([k, v]) => {
        const m = mark?.(k, v);
        return (
          <li key={k} class={m ? 'matched' : undefined}>
            <span class="k">{k}</span>=<span class="v">{v}</span>
            {m && <span class="why"> ← {m}</span>}
          </li>
        );
      })}
    </ul>
  );
}

function Events({ items, error }: { items: WEvent[]; error?: string }) {
  if (error) return <div class="error">{error}</div>;
  if (items.length === 0) return <div class="muted">no Events</div>;
  return (
    <ul class="events">
      {items.map((e) => (
        <li key={e.meta.name} class={e.type === 'Warning' ? 'warning' : undefined}>
          <span class="when">{e.last ? e.last.replace('T', ' ').replace('Z', '') : ''}</span> <b>{e.reason}</b>
          {e.count > 1 ? ` (×${e.count})` : ''}: {e.message}
        </li>
      ))}
    </ul>
  );
}

function Logs({ pod, onUnauthorized }: { pod: WPod; onUnauthorized(m: string): void }) {
  const [container, setContainer] = useState(pod.containers[0]?.name ?? '');
  const [gen, setGen] = useState(0);
  const [out, setOut] = useState<{ tail?: LogTail; error?: string; loading: boolean }>({ loading: true });
  useEffect(() => {
    let live = true;
    setOut((o) => ({ ...o, loading: true }));
    fetchLogs(pod.meta.namespace, pod.meta.name, container)
      .then((tail) => live && setOut({ tail, loading: false }))
      .catch((err) => {
        if (err instanceof Unauthorized) onUnauthorized(err.message);
        else if (live) setOut({ error: (err as Error).message, loading: false });
      });
    return () => {
      live = false;
    };
  }, [pod.meta.namespace, pod.meta.name, container, gen]);
  return (
    <div class="logs">
      <div class="logbar">
        {pod.containers.length > 1 && (
          <select value={container} onChange={(e) => setContainer((e.target as HTMLSelectElement).value)}>
            {pod.containers.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
        )}
        <button onClick={() => setGen(gen + 1)}>refresh</button>
        <span class="muted">last 100 lines{out.loading ? ' · loading…' : ''}</span>
      </div>
      {out.error && <div class="error">{out.error}</div>}
      {out.tail && (
        <pre class="log" data-lines={String(out.tail.lines.length)}>
          {out.tail.lines.length ? out.tail.lines.join('\n') : '(no output)'}
        </pre>
      )}
      {out.tail && (out.tail.cutLines > 0 || out.tail.truncated) && (
        <div class="muted">
          {out.tail.cutLines > 0 ? `${out.tail.cutLines} long line(s) cut. ` : ''}
          {out.tail.truncated ? 'The log was too large to read whole.' : ''}
        </div>
      )}
    </div>
  );
}

const WHY_TONE: Record<MemberState, string> = { ready: 'ok', notready: 'warn', terminating: 'bad', candidate: 'idle', excluded: 'muted' };

function endpointsOfService(state: ClusterState, svc: WService) {
  return [...state.slices.values()].filter((s) => s.meta.namespace === svc.meta.namespace && s.service === svc.meta.name).flatMap((s) => s.endpoints);
}

function PodDetail({ pod, state, now, onSelect, onUnauthorized }: { pod: WPod } & Omit<DetailProps, 'sel' | 'onClose'>) {
  const ev = useEvents(pod.meta.namespace, pod.meta.uid, pod.meta.uid + pod.containers.map((c) => c.restarts).join(), onUnauthorized);
  const services = [...state.services.values()].filter((s) => s.meta.namespace === pod.meta.namespace && s.type !== 'ExternalName');
  const selecting = services.filter((s) => matchSelector(s.selector, pod.meta.labels).matches);
  const mark = (k: string, v: string) => {
    const names = selecting.filter((s) => s.selector?.[k] === v).map((s) => s.meta.name);
    return names.length ? `selected by Service ${names.join(', ')}` : undefined;
  };
  const allEvents = [...state.events.values(), ...ev.items];
  const relevant = services.filter((s) => selecting.includes(s) || endpointsOfService(state, s).some((e) => e.pod === pod.meta.name));
  const g = groupOf(pod, state);
  return (
    <div>
      <h2 class={`tone-${podState(pod)}`}>{pod.meta.name}</h2>
      <div class="facts">
        <div>status <b>{podStatusText(pod)}</b></div>
        <div>IP {pod.ip ?? '—'} · node {pod.node ?? '—'} · age {age(pod.meta.created, now)}</div>
        <div>
          owner {pod.meta.owner ? `${pod.meta.owner.kind} ${pod.meta.owner.name}` : 'none'}
          {g && g.kind === 'Deployment' && (
            <>
              {' '}· <a onClick={() => onSelect({ kind: 'Group', namespace: g.namespace, name: g.key })}>Deployment {g.name}</a>
            </>
          )}
        </div>
      </div>
      <h3>Services</h3>
      {relevant.length === 0 ? (
        <div class="muted">no Service selects this Pod</div>
      ) : (
        <ul class="why">
          {relevant.map((s) => {
            const w = explainMembership(s, pod, endpointsOfService(state, s), allEvents);
            return (
              <li key={s.meta.name} class={`tone-${WHY_TONE[w.state]}`}>
                <a onClick={() => onSelect({ kind: 'Service', namespace: s.meta.namespace, name: s.meta.name })}>{s.meta.name}</a>: {w.text}
              </li>
            );
          })}
        </ul>
      )}
      <h3>Labels</h3>
      <KV entries={Object.entries(pod.meta.labels)} mark={mark} />
      <h3>Annotations</h3>
      <KV entries={Object.entries(pod.meta.annotations)} />
      <h3>Conditions</h3>
      <table class="conds">
        <tbody>
          {pod.conditions.map((c) => (
            <tr key={c.type}>
              <td>{c.type}</td>
              <td class={c.status === 'True' ? 'tone-ok' : 'tone-warn'}>{c.status}</td>
              <td>{[c.reason, c.message].filter(Boolean).join(': ')}</td>
              <td class="muted">{c.since ? age(c.since, now) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Containers</h3>
      <ul class="containers">
        {pod.containers.map((c) => (
          <li key={c.name}>
            <b>{c.name}</b> {c.image} — {c.state}
            {c.reason ? ` (${c.reason})` : ''}, {c.ready ? 'ready' : 'not ready'}, restarts {c.restarts}
            {c.readinessProbe && <div class="muted">readiness: {c.readinessProbe}</div>}
            {c.message && <div class="muted">{c.message}</div>}
          </li>
        ))}
      </ul>
      <h3>Events</h3>
      <Events {...ev} />
      <h3>Logs</h3>
      <Logs pod={pod} onUnauthorized={onUnauthorized} />
    </div>
  );
}

function ServiceDetail({ svc, state, onSelect, onUnauthorized }: { svc: WService } & Omit<DetailProps, 'sel' | 'onClose' | 'now'>) {
  const ev = useEvents(svc.meta.namespace, undefined, state.version >> 4, onUnauthorized);
  const eps = endpointsOfService(state, svc);
  const allEvents = [...state.events.values(), ...ev.items];
  const pods = [...state.pods.values()].filter((p) => p.meta.namespace === svc.meta.namespace);
  // Every Pod the Service has, or might be expected to have: endpoints, full matches, near misses.
  const candidates = pods.filter((p) => {
    if (eps.some((e) => e.pod === p.meta.name || (!e.pod && e.ip === p.ip))) return true;
    return svc.selector && matchSelector(svc.selector, p.meta.labels).matched.length > 0;
  });
  const rows = candidates.map((p) => ({ p, w: explainMembership(svc, p, eps, allEvents) }));
  const order: MemberState[] = ['ready', 'notready', 'terminating', 'candidate', 'excluded'];
  rows.sort((a, b) => order.indexOf(a.w.state) - order.indexOf(b.w.state) || (a.p.meta.name < b.p.meta.name ? -1 : 1));
  return (
    <div>
      <h2>{svc.meta.name}</h2>
      <div class="facts">
        <div>
          {svc.type}
          {svc.clusterIP === 'None' ? ' (headless)' : svc.clusterIP ? ` · ClusterIP ${svc.clusterIP}` : ''}
          {svc.externalName ? ` · alias of ${svc.externalName}` : ''}
        </div>
        <div>ports {svc.ports.map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}${p.targetPort !== undefined ? ` → ${p.targetPort}` : ''}${p.nodePort ? ` (node port ${p.nodePort})` : ''}`).join(', ') || 'none'}</div>
        {svc.loadBalancerIPs.length > 0 && <div>load balancer {svc.loadBalancerIPs.join(', ')}</div>}
      </div>
      <h3>Selector</h3>
      {svc.selector ? <KV entries={Object.entries(svc.selector)} /> : <div class="muted">none: endpoints are managed by hand</div>}
      <h3>Pods: in or out, and why</h3>
      {rows.length === 0 ? (
        <div class="muted">{svc.type === 'ExternalName' ? 'an ExternalName Service selects no Pods' : 'no Pod of this namespace matches any of the selector'}</div>
      ) : (
        <ul class="why">
          {rows.map(({ p, w }) => (
            <li key={p.meta.name} class={`tone-${WHY_TONE[w.state]}`} data-pod={p.meta.name} data-member-state={w.state}>
              <a onClick={() => onSelect({ kind: 'Pod', namespace: p.meta.namespace, name: p.meta.name })}>{p.meta.name}</a>: {w.member ? 'in' : 'out'} — {w.text}
            </li>
          ))}
        </ul>
      )}
      <h3>Labels</h3>
      <KV entries={Object.entries(svc.meta.labels)} />
      <h3>Annotations</h3>
      <KV entries={Object.entries(svc.meta.annotations)} />
    </div>
  );
}

function GroupDetail({ groupKey, state, now, onSelect }: { groupKey: string } & Omit<DetailProps, 'sel' | 'onClose' | 'onUnauthorized'>) {
  const [ns, kind, name] = groupKey.split('/');
  const pods = [...state.pods.values()].filter((p) => groupOf(p, state)?.key === groupKey).sort((a, b) => (a.meta.name < b.meta.name ? -1 : 1));
  const d = kind === 'Deployment' ? state.deployments.get(`Deployment/${ns}/${name}`) : undefined;
  const rss = [...state.replicasets.values()].filter((r) => r.meta.namespace === ns && r.meta.owner?.kind === kind && r.meta.owner.name === name).sort((a, b) => Number(b.revision ?? 0) - Number(a.revision ?? 0));
  return (
    <div>
      <h2>{name}</h2>
      <div class="facts">
        <div>
          {kind} in {ns} · {pods.length} Pods
        </div>
        {d && (
          <div>
            desired {d.replicas} · updated {d.updated} · ready {d.ready} · available {d.available}
          </div>
        )}
      </div>
      {rss.length > 0 && (
        <>
          <h3>ReplicaSets</h3>
          <ul>
            {rss.map((r) => (
              <li key={r.meta.name}>
                {r.meta.name} (rev {r.revision ?? '?'}): {r.replicas} Pods, {r.ready} ready
              </li>
            ))}
          </ul>
        </>
      )}
      {d && d.conditions.length > 0 && (
        <>
          <h3>Conditions</h3>
          <ul>
            {d.conditions.map((c) => (
              <li key={c.type}>
                {c.type}: {c.status}
                {c.reason ? ` (${c.reason})` : ''} {c.message ?? ''}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Pods</h3>
      <ul>
        {pods.map((p) => (
          <li key={p.meta.name} class={`tone-${podState(p)}`}>
            <a onClick={() => onSelect({ kind: 'Pod', namespace: p.meta.namespace, name: p.meta.name })}>{p.meta.name}</a> {podStatusText(p)} · {p.ip ?? 'no IP'} · age {age(p.meta.created, now)}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Detail(props: DetailProps) {
  const { sel, state, onClose } = props;
  let body;
  if (sel.kind === 'Pod') {
    const pod = state.pods.get(`Pod/${sel.namespace}/${sel.name}`);
    body = pod ? <PodDetail pod={pod} {...props} /> : <div class="muted">Pod {sel.name} is gone.</div>;
  } else if (sel.kind === 'Service') {
    const svc = state.services.get(`Service/${sel.namespace}/${sel.name}`);
    body = svc ? <ServiceDetail svc={svc} {...props} /> : <div class="muted">Service {sel.name} does not exist.</div>;
  } else if (sel.kind === 'Group') {
    body = <GroupDetail groupKey={sel.name} {...props} />;
  } else {
    const ing = state.ingresses.get(`Ingress/${sel.namespace}/${sel.name}`);
    body = ing ? (
      <div>
        <h2>{ing.meta.name}</h2>
        <div class="facts">Ingress{ing.className ? ` · class ${ing.className}` : ''}{ing.addresses.length ? ` · ${ing.addresses.join(', ')}` : ''}</div>
        <h3>Rules</h3>
        <ul>
          {ing.paths.map((p, i) => (
            <li key={i}>
              {ing.tlsHosts.includes(p.host) ? 'https' : 'http'}://{p.host}
              {p.path} ({p.pathType}) →{' '}
              {p.service ? <a onClick={() => props.onSelect({ kind: 'Service', namespace: ing.meta.namespace, name: p.service! })}>{`${p.service}:${p.port ?? '?'}`}</a> : 'no Service'}
            </li>
          ))}
        </ul>
        <h3>Annotations</h3>
        <KV entries={Object.entries(ing.meta.annotations)} />
      </div>
    ) : (
      <div class="muted">Ingress {sel.name} does not exist.</div>
    );
  }
  return (
    <aside class="detail" data-detail={`${sel.kind}/${sel.namespace}/${sel.name}`}>
      <button class="close" title="close (Esc)" onClick={onClose}>
        ×
      </button>
      {body}
    </aside>
  );
}

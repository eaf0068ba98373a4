// Draws the laid-out road: cards as positioned HTML (text only, so nothing in an object's fields is
// ever markup) over an SVG of edges. Service -> Pod edges carry the kernel's counters: the number of
// connections DNATed to that endpoint and their rate, which also sets the edge's thickness.

import { memo } from 'preact/compat';
import type { GEdge, GNode, Road } from '../model/road.js';
import type { CounterBook } from '../model/counters.js';
import { count, rate } from '../model/format.js';
import type { Layout, Placed } from './layout.js';

export interface Selection {
  id: string;
}

interface GraphProps {
  road: Road;
  layout: Layout;
  book: CounterBook;
  bookVersion: number;
  selected?: string;
  allNamespaces: boolean;
  onSelect(n: GNode): void;
  onToggle(groupKey: string, collapsed: boolean): void;
}

const STATE_TEXT: Record<string, string> = {
  ready: 'Ready',
  notready: 'not Ready',
  terminating: 'terminating',
  candidate: 'labels match, no endpoint',
  excluded: 'not selected',
  route: '',
  alias: 'CNAME',
};

function edgeWidth(r: number, state: string): number {
  if (state === 'alias') return 1.5;
  return 1.5 + Math.min(8, Math.log2(1 + r) * 2);
}

/** A point of the cubic Bézier (p0, c1, c2, p3) at t. */
function at(t: number, p0: number, c1: number, c2: number, p3: number): number {
  const u = 1 - t;
  return u * u * u * p0 + 3 * u * u * t * c1 + 3 * u * t * t * c2 + t * t * t * p3;
}

function Edge({ e, a, b, book }: { e: GEdge; a: Placed; b: Placed; book: CounterBook }) {
  const x1 = a.x + a.w;
  const y1 = a.y + a.h / 2;
  const x2 = b.x;
  const y2 = b.y + b.h / 2;
  const dx = Math.max(30, (x2 - x1) / 2);
  const d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
  const sum = book.sum(e.counterKeys);
  const counted = e.counterKeys.length > 0;
  const n = e.counts ? Object.values(e.counts).reduce((s, v) => s + (v ?? 0), 0) : 0;
  // No label for an edge nothing went through yet: "0" twenty times over is noise (the title still says it).
  let label = counted && sum.packets > 0 ? `${count(sum.packets)} conn${sum.rate >= 0.05 ? ` · ${rate(sum.rate)}` : ''}` : '';
  if (n > 1) label = `${n} endpoints${label ? ` · ${label}` : ''}`;
  const title = `${STATE_TEXT[e.state] ?? e.state}${counted ? ` — ${sum.packets} connections (${sum.bytes} bytes in their first packets) DNATed by the kernel, ${sum.rate.toFixed(1)}/s` : ''}${e.label ? ` — ${e.label}` : ''}`;
  // Labels sit along the curve (not at its end), so edges meeting at one card keep theirs apart.
  const t = e.state === 'route' ? 0.5 : 0.62;
  const lx = at(t, x1, x1 + dx, x2 - dx, x2);
  const ly = at(t, y1, y1, y2, y2);
  return (
    <g class={`edge st-${e.state}`} data-from={e.from} data-to={e.to} data-state={e.state} data-packets={counted ? String(sum.packets) : undefined} data-bytes={counted ? String(sum.bytes) : undefined}>
      <title>{title}</title>
      <path d={d} stroke-width={edgeWidth(sum.rate, e.state)} />
      {label && (
        <text class="count" x={lx} y={ly - 5} text-anchor="middle">
          {label}
        </text>
      )}
      {e.label && e.state !== 'route' && (
        <text class="reason" x={lx} y={ly + 13} text-anchor="middle">
          {e.label.length > 46 ? `${e.label.slice(0, 45)}…` : e.label}
        </text>
      )}
    </g>
  );
}

interface NodeProps {
  n: GNode;
  p: Placed;
  selected: boolean;
  allNamespaces: boolean;
  onSelect(n: GNode): void;
  onToggle(groupKey: string, collapsed: boolean): void;
}

const Node = memo(function Node({ n, p, selected, allNamespaces, onSelect, onToggle }: NodeProps) {
  return (
    <div
      class={`node kind-${n.kind} tone-${n.tone}${selected ? ' selected' : ''}${n.highlight ? ' hit' : ''}`}
      style={{ left: `${p.x}px`, top: `${p.y}px`, width: `${p.w}px`, height: `${p.h}px` }}
      data-id={n.id}
      data-kind={n.kind}
      data-state={n.state}
      data-name={n.ref?.kind === 'Group' ? n.title : n.ref?.name ?? n.title}
      data-ns={n.ref?.namespace}
      role="button"
      tabIndex={0}
      onClick={() => onSelect(n)}
      onKeyDown={(ev) => {
        if (ev.key === 'Enter') onSelect(n);
      }}
    >
      <div class="head">
        <span class="dot" />
        <span class="title" title={n.title}>
          {allNamespaces && n.ref ? <span class="ns">{n.ref.namespace}/</span> : null}
          {n.title}
        </span>
        {n.group && (
          <button
            class="toggle"
            title={n.group.collapsed ? 'show the Pods of this group' : 'collapse into the group'}
            onClick={(ev) => {
              ev.stopPropagation();
              onToggle(n.group!.key, !n.group!.collapsed);
            }}
          >
            {n.group.collapsed ? '+' : '−'}
          </button>
        )}
      </div>
      <div class="sub">{n.subtitle}</div>
      {n.lines.map((l, i) => (
        <div key={i} class={`line${l.tone ? ` tone-${l.tone}` : ''}`} title={l.title ?? l.text}>
          {l.text}
        </div>
      ))}
    </div>
  );
});

export function Graph({ road, layout, book, selected, allNamespaces, onSelect, onToggle }: GraphProps) {
  const byId = new Map(road.nodes.map((n) => [n.id, n]));
  return (
    <div class="graph" style={{ width: `${layout.width}px`, height: `${layout.height}px` }}>
      <svg class="edges" width={layout.width} height={layout.height}>
        {road.edges.map((e) => {
          const a = layout.nodes.get(e.from);
          const b = layout.nodes.get(e.to);
          return a && b ? <Edge key={e.id} e={e} a={a} b={b} book={book} /> : null;
        })}
      </svg>
      {layout.loneTop !== undefined && (
        <div class="lone" style={{ top: `${layout.loneTop}px` }}>
          Pods behind no Service
        </div>
      )}
      {road.nodes.map((n) => {
        const p = layout.nodes.get(n.id);
        return p && byId.has(n.id) ? <Node key={n.id} n={n} p={p} selected={selected === n.id} allNamespaces={allNamespaces} onSelect={onSelect} onToggle={onToggle} /> : null;
      })}
    </div>
  );
}

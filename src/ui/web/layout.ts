// Where each card of the road goes. Columns are fixed (entry points | Services | Pods) so every road
// reads left to right the same way. Each connected part of the graph is laid out on its own and
// stacked under the previous one: a simple road (one Service, its entry card, its Pods) is stacked by
// hand; one where Services share Pods or an Ingress fans out to several Services is ordered by dagre
// (layered layout with crossing reduction). Results are cached per part, so a change to one road
// does not lay out the other 199 again. Pure (no DOM): runs under Node in the unit tests.

import dagre from '@dagrejs/dagre';
import type { GEdge, GNode, Road } from '../model/road.js';

export const COLUMN_X = [0, 440, 820] as const;
export const COLUMN_W = [330, 250, 300] as const;
export const LINE_H = 16;
const HEAD_H = 38;
const PAD = 8;
const NODE_GAP = 12;
const PART_GAP = 30;
const GRID_GAP = 14;

export interface Placed {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Layout {
  nodes: Map<string, Placed>;
  width: number;
  height: number;
  /** y where the Pods behind no Service start (their grid), if any. */
  loneTop?: number;
}

export function nodeHeight(n: GNode): number {
  return HEAD_H + n.lines.length * LINE_H + PAD;
}

interface Part {
  nodes: GNode[];
  edges: GEdge[];
  /** sort key */
  name: string;
}

/** Connected parts of the graph (union-find over the edges). */
function parts(road: Road): { connected: Part[]; lone: GNode[] } {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    for (let c = x; c !== r; ) {
      const next = parent.get(c)!;
      parent.set(c, r);
      c = next;
    }
    return r;
  };
  for (const n of road.nodes) parent.set(n.id, n.id);
  for (const e of road.edges) {
    if (!parent.has(e.from) || !parent.has(e.to)) continue;
    const a = find(e.from);
    const b = find(e.to);
    if (a !== b) parent.set(a, b);
  }
  const byRoot = new Map<string, Part>();
  for (const n of road.nodes) {
    const r = find(n.id);
    const p = byRoot.get(r) ?? { nodes: [], edges: [], name: '' };
    p.nodes.push(n);
    byRoot.set(r, p);
  }
  for (const e of road.edges) if (parent.has(e.from) && parent.has(e.to)) byRoot.get(find(e.from))!.edges.push(e);
  const connected: Part[] = [];
  const lone: GNode[] = [];
  for (const p of byRoot.values()) {
    if (p.edges.length === 0 && p.nodes.length === 1 && p.nodes[0].column === 2) {
      lone.push(p.nodes[0]);
      continue;
    }
    const svc = p.nodes.filter((n) => n.kind === 'service').map((n) => n.id).sort()[0];
    const ing = p.nodes.some((n) => n.kind === 'ingress') ? '0' : '1';
    p.name = `${ing}${svc ?? p.nodes[0].id}`;
    connected.push(p);
  }
  connected.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  lone.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { connected, lone };
}

type Rel = Map<string, { y: number; h: number }>;

/** One Service with its entry cards and targets: columns stacked, centred on one another. */
function simpleStack(p: Part): Rel | undefined {
  const services = p.nodes.filter((n) => n.column === 1);
  if (services.length !== 1) return undefined;
  const sid = services[0].id;
  if (!p.edges.every((e) => e.from === sid || e.to === sid)) return undefined;
  const cols: GNode[][] = [[], [], []];
  for (const n of p.nodes) cols[n.column].push(n);
  const heights = cols.map((c) => c.reduce((s, n) => s + nodeHeight(n), 0) + Math.max(0, c.length - 1) * NODE_GAP);
  const total = Math.max(...heights);
  const rel: Rel = new Map();
  cols.forEach((c, i) => {
    let y = (total - heights[i]) / 2;
    for (const n of c) {
      const h = nodeHeight(n);
      rel.set(n.id, { y, h });
      y += h + NODE_GAP;
    }
  });
  return rel;
}

function dagreStack(p: Part): Rel {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: NODE_GAP, ranksep: 60, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of p.nodes) g.setNode(n.id, { width: COLUMN_W[n.column], height: nodeHeight(n) });
  for (const e of p.edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const rel: Rel = new Map();
  let top = Infinity;
  for (const n of p.nodes) {
    const d = g.node(n.id);
    const h = nodeHeight(n);
    const y = d.y - h / 2;
    rel.set(n.id, { y, h });
    top = Math.min(top, y);
  }
  for (const v of rel.values()) v.y -= top;
  // Entry cards and Ingresses face what they point at: each wants its centre level with the mean
  // centre of its Services (dagre only orders them).
  const centre = (id: string) => rel.get(id)!.y + rel.get(id)!.h / 2;
  const want = new Map<string, number>();
  for (const n of p.nodes) {
    if (n.column !== 0) continue;
    const targets = p.edges.filter((e) => e.from === n.id).map((e) => centre(e.to));
    if (targets.length) want.set(n.id, targets.reduce((a, b) => a + b, 0) / targets.length - rel.get(n.id)!.h / 2);
  }
  for (const [id, y] of want) rel.get(id)!.y = y;
  // dagre separates nodes of one rank; columns are ours, so keep each column free of overlaps too.
  const cols = new Map<number, { id: string; y: number; h: number }[]>();
  for (const n of p.nodes) {
    const list = cols.get(n.column) ?? [];
    list.push({ id: n.id, ...rel.get(n.id)! });
    cols.set(n.column, list);
  }
  for (const list of cols.values()) {
    list.sort((a, b) => a.y - b.y);
    let bottom = -Infinity;
    for (const it of list) {
      const y = Math.max(it.y, bottom + NODE_GAP);
      rel.get(it.id)!.y = y;
      bottom = y + it.h;
    }
  }
  let minY = Infinity;
  for (const v of rel.values()) minY = Math.min(minY, v.y);
  for (const v of rel.values()) v.y -= minY;
  return rel;
}

function signature(p: Part): string {
  return JSON.stringify([p.nodes.map((n) => [n.id, n.column, n.lines.length]), p.edges.map((e) => [e.from, e.to])]);
}

export class LayoutCache {
  private readonly parts = new Map<string, Rel>();

  get(p: Part): Rel {
    const key = signature(p);
    let rel = this.parts.get(key);
    if (!rel) {
      rel = simpleStack(p) ?? dagreStack(p);
      if (this.parts.size > 3000) this.parts.clear();
      this.parts.set(key, rel);
    }
    return rel;
  }
}

export function layoutRoad(road: Road, cache = new LayoutCache()): Layout {
  const { connected, lone } = parts(road);
  const nodes = new Map<string, Placed>();
  let y = 0;
  for (const p of connected) {
    const rel = cache.get(p);
    let bottom = 0;
    for (const n of p.nodes) {
      const r = rel.get(n.id)!;
      nodes.set(n.id, { x: COLUMN_X[n.column], y: y + r.y, w: COLUMN_W[n.column], h: r.h });
      bottom = Math.max(bottom, r.y + r.h);
    }
    y += bottom + PART_GAP;
  }
  const width = COLUMN_X[2] + COLUMN_W[2];
  let loneTop: number | undefined;
  if (lone.length) {
    // Pods behind no Service: a grid under the roads.
    loneTop = y;
    y += 24;
    const w = COLUMN_W[2];
    const perRow = Math.max(1, Math.floor((width + GRID_GAP) / (w + GRID_GAP)));
    for (let i = 0; i < lone.length; i += perRow) {
      const row = lone.slice(i, i + perRow);
      const h = Math.max(...row.map(nodeHeight));
      row.forEach((n, j) => nodes.set(n.id, { x: j * (w + GRID_GAP), y, w, h: nodeHeight(n) }));
      y += h + GRID_GAP;
    }
  }
  return { nodes, width, height: Math.max(0, y), ...(loneTop !== undefined ? { loneTop } : {}) };
}

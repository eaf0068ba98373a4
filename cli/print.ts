// Output formats kubectl users expect: server-printed tables aligned like kubectl's tabwriter
// (min width 6, padding 3), `-o wide`, `--show-labels`, `-A`'s NAMESPACE column, yaml/json/name.

import YAML from 'yaml';
import type { KObject } from '../src/api/types.js';
import { qualifiedSingular, type ResourceInfo } from '../src/api/resources.js';

export interface TableDoc {
  columnDefinitions: { name: string; priority: number }[];
  rows: { cells: unknown[]; object?: KObject }[];
}

export interface TableOptions {
  wide?: boolean;
  allNamespaces?: boolean;
  showLabels?: boolean;
  noHeaders?: boolean;
}

export function tableLines(table: TableDoc, opts: TableOptions): string[][] {
  const keep = table.columnDefinitions.map((c, i) => ({ c, i })).filter(({ c }) => opts.wide || c.priority === 0);
  const header = keep.map(({ c }) => c.name.toUpperCase());
  if (opts.allNamespaces) header.unshift('NAMESPACE');
  if (opts.showLabels) header.push('LABELS');
  const rows = table.rows.map((r) => {
    const cells = keep.map(({ i }) => String(r.cells[i] ?? ''));
    if (opts.allNamespaces) cells.unshift(r.object?.metadata?.namespace ?? '');
    if (opts.showLabels) {
      const labels = Object.entries(r.object?.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      cells.push(labels || '<none>');
    }
    return cells;
  });
  return opts.noHeaders ? rows : [header, ...rows];
}

/** Aligns rows as Go's tabwriter with minwidth 6, padding 3 does for kubectl. */
export function align(rows: string[][], widths?: number[]): { text: string; widths: number[] } {
  const w = widths ?? [];
  for (const row of rows) row.forEach((cell, i) => (w[i] = Math.max(w[i] ?? 0, Math.max(cell.length + 3, 6))));
  const text = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(w[i]))).join('')).join('\n');
  return { text: text ? text + '\n' : '', widths: w };
}

export function nameOf(res: ResourceInfo, obj: KObject): string {
  return `${qualifiedSingular(res)}/${obj.metadata.name}`;
}

export function formatObjects(objs: KObject[], format: 'yaml' | 'json', single: boolean): string {
  const body = single && objs.length === 1 ? objs[0] : { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objs };
  return format === 'json' ? JSON.stringify(body, null, 4) + '\n' : YAML.stringify(body, { aliasDuplicateObjects: false });
}

// `describe ingress` exactly as kubectl 1.32 prints it (describeIngressV1 in kubectl's describe.go):
// the rules with each backend's Service endpoints, TLS, annotations and Events, aligned the way Go's
// text/tabwriter aligns them (padding 2, column blocks of consecutive lines). Pure: the caller fetches.

import type { Endpoints, Event, Ingress, IngressBackend, Service } from '../api/types.js';
import { humanAge } from '../util/time.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const MAX_ANNOTATION_LEN = 140;

/**
 * Go's text/tabwriter with kubectl's settings (minwidth 0, padding 2, pad with spaces, no flags): a
 * cell ends at a tab; a column block is a run of consecutive lines having a cell in that column, and
 * every cell of a block is padded to the block's widest cell + 2. Text after a line's last tab is
 * not a cell and is never padded.
 */
export function tabwrite(text: string): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  // a trailing newline leaves an empty last line that Go never sees as a line
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) lines.pop();
  const out: string[] = lines.map(() => '');
  const widths: number[] = [];
  const width = (s: string) => [...s].length;

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      let s = '';
      cells.forEach((c, j) => {
        s += c;
        if (j < widths.length && j < cells.length - 1) s += ' '.repeat(Math.max(0, widths[j] - width(c)));
      });
      out[i] = s;
    }
  };
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i].length - 1) continue;
      writeLines(line0, i);
      line0 = i;
      let w = 0;
      for (; i < line1; i++) {
        if (column >= lines[i].length - 1) break;
        w = Math.max(w, width(lines[i][column]) + 2);
      }
      widths.push(w);
      format(line0, i);
      widths.pop();
      line0 = i;
      i--; // the for loop's i++ must land on the line that ended the block
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return out.join('\n') + (trailingNewline ? '\n' : '');
}

function serviceBackendString(b: NonNullable<IngressBackend['service']>): string {
  return `${b.name}:${b.port?.number ? b.port.number : b.port?.name ?? ''}`;
}

/** kubectl's formatEndpoints: up to three `ip:port` of the named Service port, then "+ N more...". */
export function formatEndpoints(ep: Endpoints, portName: string | undefined): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    if (!ss.ports?.length) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ss.ports) {
      if (portName !== undefined && (port.name ?? '') !== portName) continue;
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip.includes(':') ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
      }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

export interface BackendLookup {
  service(namespace: string, name: string): Service | undefined;
  endpoints(namespace: string, name: string): Endpoints | undefined;
}

function describeBackend(ns: string, b: IngressBackend, lookup: BackendLookup): string {
  if (b.service) {
    const sb = serviceBackendString(b.service);
    const ep = lookup.endpoints(ns, b.service.name);
    if (!ep) return `${sb} (<error: endpoints "${b.service.name}" not found>)`;
    const svc = lookup.service(ns, b.service.name);
    if (!svc) return `${sb}(<error: services "${b.service.name}" not found>)`;
    let spName = '';
    for (const sp of svc.spec?.ports ?? []) {
      if (b.service.port?.number && b.service.port.number === sp.port) spName = sp.name ?? '';
      else if (b.service.port?.name && b.service.port.name === sp.name) spName = sp.name ?? '';
    }
    return `${sb} (${formatEndpoints(ep, spName)})`;
  }
  if (b.resource) return `APIGroup: ${b.resource.apiGroup ?? ''}, Kind: ${b.resource.kind}, Name: ${b.resource.name}`;
  return '';
}

function labelsMultiline(title: string, labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return `${title}:\t<none>\n`;
  return keys.map((k, i) => `${i === 0 ? `${title}:` : ''}\t${k}=${labels![k]}\n`).join('');
}

function annotationsMultiline(title: string, annotations: Record<string, string> | undefined): string {
  const keys = Object.keys(annotations ?? {})
    .filter((k) => k !== LAST_APPLIED)
    .sort();
  let s = `${title}:\t`;
  if (keys.length === 0) return `${s}<none>\n`;
  keys.forEach((key, i) => {
    if (i !== 0) s += '\t';
    const value = annotations![key].replace(/\n$/, '');
    if (value.length + key.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      s += `${key}:\n`;
      for (const line of value.split('\n')) s += `\t  ${line.length > MAX_ANNOTATION_LEN - 2 ? `${line.slice(0, MAX_ANNOTATION_LEN - 2)}...` : line}\n`;
    } else {
      s += `${key}: ${value}\n`;
    }
  });
  return s;
}

function eventsBlock(events: readonly Event[], now: number): string {
  if (events.length === 0) return 'Events:\t<none>\n';
  const sorted = [...events].sort((a, b) => (Date.parse(a.lastTimestamp ?? '') || 0) - (Date.parse(b.lastTimestamp ?? '') || 0));
  let s = 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n';
  for (const e of sorted) {
    const first = humanAge(e.firstTimestamp, now);
    const interval = (e.count ?? 1) > 1 ? `${humanAge(e.lastTimestamp, now)} (x${e.count} over ${first})` : first;
    const source = e.source?.component || e.reportingComponent || '';
    s += `  ${e.type ?? ''}\t${e.reason ?? ''}\t${interval}\t${source}\t${(e.message ?? '').trim()}\n`;
  }
  return s;
}

/** The whole `kubectl describe ingress NAME` text, Events included. */
export function describeIngress(ing: Ingress, lookup: BackendLookup, events: readonly Event[] = [], now = Date.now()): string {
  const ns = ing.metadata.namespace ?? 'default';
  const spec = ing.spec ?? {};
  let head = `Name:\t${ing.metadata.name ?? ''}\n`;
  head += labelsMultiline('Labels', ing.metadata.labels);
  head += `Namespace:\t${ns}\n`;
  head += `Address:\t${(ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean).join(',')}\n`;
  head += `Ingress Class:\t${spec.ingressClassName ?? '<none>'}\n`;
  const def = spec.defaultBackend ? describeBackend(ns, spec.defaultBackend, lookup) : '<default>';
  head += `Default backend:\t${def}\n`;
  if (spec.tls?.length) {
    head += 'TLS:\n';
    for (const t of spec.tls) head += t.secretName ? `  ${t.secretName} terminates ${(t.hosts ?? []).join(',')}\n` : `  SNI routes ${(t.hosts ?? []).join(',')}\n`;
  }
  head += 'Rules:\n  Host\tPath\tBackends\n  ----\t----\t--------\n';
  let count = 0;
  for (const rule of spec.rules ?? []) {
    if (!rule.http) continue;
    count++;
    head += `  ${rule.host || '*'}\t\n`;
    for (const p of rule.http.paths ?? []) head += `    \t${p.path ?? ''} \t${describeBackend(ns, p.backend, lookup)}\n`;
  }
  if (count === 0) head += `  *\t*\t${def}\n`;
  head += annotationsMultiline('Annotations', ing.metadata.annotations);
  if (events.length === 0) return tabwrite(head + eventsBlock(events, now));
  // kubectl flushes its tabwriter before the Events table: two separately aligned parts
  return tabwrite(head) + tabwrite(eventsBlock(events, now));
}

// Kubernetes resource quantities ("500m", "1.5", "128Mi", "1G", "1e3"): parsed once into plain numbers
// so the scheduler compares numbers and the agent hands Docker exact integers.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY_RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;

/** True if the string is a valid Kubernetes quantity. */
export function isQuantity(q: unknown): boolean {
  if (typeof q === 'number') return Number.isFinite(q);
  return typeof q === 'string' && QUANTITY_RE.test(q.trim());
}

/** The quantity's value in base units (cores for cpu, bytes for memory). Throws on a malformed quantity. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new Error(`quantity ${q} is not finite`);
    return q;
  }
  const m = QUANTITY_RE.exec(q.trim());
  if (!m) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  const n = Number(m[1]);
  if (m[2]) return n * BINARY[m[2]];
  if (m[3]) return n * 10 ** Number(m[3].slice(1));
  return n * DECIMAL[m[4] ?? ''];
}

/** CPU in millicores, rounded up as Kubernetes does ("0.1" -> 100, "1" -> 1000). */
export function parseCPUMillis(q: string | number): number {
  return Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

/** Memory (or any byte quantity) in bytes, rounded up. */
export function parseBytes(q: string | number): number {
  return Math.ceil(parseQuantity(q) - 1e-9);
}

/** Formats millicores as Kubernetes prints them: "2" for 2000, "1500m" for 1500. */
export function formatCPU(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Formats bytes with the largest exact binary suffix: 1073741824 -> "1Gi", 1000 -> "1000". */
export function formatBytes(bytes: number): string {
  for (const [suffix, size] of Object.entries(BINARY).reverse()) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

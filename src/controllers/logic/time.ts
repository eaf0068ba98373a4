// Kubernetes' metav1.Time renders with second precision ("2024-05-01T10:00:00Z"); conditions written
// by the controllers use the same shape so equal timestamps compare equal as strings.

export function isoSeconds(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds since the epoch, or undefined for a missing or unparsable timestamp. */
export function parseTime(s: string | undefined | null): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

// An image's config as the Dockerfile-style instructions `docker import --change` (the `changes` query
// parameter of POST /images/create?fromSrc=-) accepts.

export interface ImageConfig {
  cmd: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  /** `8080/tcp`, `9000/udp` */
  exposedPorts: string[];
  /** Anonymous volumes every container of the image gets (`VOLUME`). */
  volumes?: string[];
  workdir: string;
  labels: Record<string, string>;
}

const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const PORT_RE = /^(\d{1,5})\/(tcp|udp|sctp)$/;

/** A double-quoted Dockerfile word: the parser unescapes \\ and \", and substitutes $VARS unless escaped. */
export function quoteDockerfileValue(value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error(`image config value ${JSON.stringify(value)}: no newlines or NULs`);
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

export function dockerChanges(config: ImageConfig): string[] {
  const out: string[] = [];
  if (config.entrypoint) out.push(`ENTRYPOINT ${JSON.stringify(config.entrypoint)}`);
  out.push(`CMD ${JSON.stringify(config.cmd)}`);
  for (const [k, v] of Object.entries(config.env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!ENV_KEY_RE.test(k)) throw new Error(`image env name ${JSON.stringify(k)} is not a valid variable name`);
    out.push(`ENV ${k}=${quoteDockerfileValue(v)}`);
  }
  for (const p of config.exposedPorts) {
    const m = PORT_RE.exec(p);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new Error(`image port ${JSON.stringify(p)}: expected PORT/tcp|udp|sctp`);
    out.push(`EXPOSE ${p}`);
  }
  for (const v of config.volumes ?? []) {
    if (!/^\/[A-Za-z0-9._/-]*$/.test(v)) throw new Error(`image volume ${JSON.stringify(v)}: expected an absolute path`);
    out.push(`VOLUME ${JSON.stringify([v])}`);
  }
  if (!config.workdir.startsWith('/')) throw new Error(`image workdir ${JSON.stringify(config.workdir)} must be absolute`);
  out.push(`WORKDIR ${config.workdir}`);
  for (const [k, v] of Object.entries(config.labels).sort(([a], [b]) => a.localeCompare(b))) {
    if (!LABEL_KEY_RE.test(k)) throw new Error(`image label ${JSON.stringify(k)} is not a valid label key`);
    out.push(`LABEL ${k}=${quoteDockerfileValue(v)}`);
  }
  return out;
}

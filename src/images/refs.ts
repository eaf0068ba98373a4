// Names, tags, ports and labels of the images kubelite builds itself. No registry is reachable from the
// hosts kubelite targets, so every image a demo or test uses is made here with `docker import`.

export const IMAGES = {
  /** HTTP echo (which Pod answered), probes, /sleep, /static, TCP echo. */
  echo: 'kubelite/echo:1',
  /** Pod infra container: holds the Pod's network namespace. */
  pause: 'kubelite/pause:1',
  /** The host's node binary and its libraries, plus ws: WebSocket and UDP echo servers. */
  node: 'kubelite/node:20',
} as const;

export type ImageKey = keyof typeof IMAGES;
export const ALL_IMAGE_KEYS: readonly ImageKey[] = ['echo', 'pause', 'node'];
/** What `kubelite images build` and server start build; node (about 100 MB) only when asked for. */
export const DEFAULT_IMAGE_KEYS: readonly ImageKey[] = ['echo', 'pause'];

export const ECHO_PORTS = {
  /** Every path: echo line, /healthz, /ready, /sleep, /static. Env PORT changes it. */
  http: 8080,
  /** busybox httpd serving /static without a shell per request (throughput benchmarks). Env STATIC_PORT (0: off). */
  static: 8081,
  /** `tcp-echo [port]` default. */
  tcpEcho: 9001,
} as const;

export const NODE_PORTS = {
  /** `ws-echo [port]` (the default command): HTTP echo line + WebSocket echo. */
  ws: 8080,
  /** `udp-echo [port]` default. */
  udpEcho: 9000,
} as const;

export const IMAGE_LABELS = {
  /** Which recipe built the image (echo, pause, node). */
  image: 'io.kubelite.image',
  /** Content hash of everything that went into it: same hash, no rebuild. */
  hash: 'io.kubelite.image.hash',
} as const;

/** `echo`, `kubelite/echo:1` or `docker.io/kubelite/echo:1` -> `echo`; anything else -> undefined. */
export function imageKeyOf(nameOrRef: string): ImageKey | undefined {
  const s = nameOrRef.trim();
  if ((ALL_IMAGE_KEYS as readonly string[]).includes(s)) return s as ImageKey;
  const bare = s.replace(/^(docker\.io\/|index\.docker\.io\/)/, '');
  for (const key of ALL_IMAGE_KEYS) if (IMAGES[key] === bare) return key;
  return undefined;
}

/** True for images only this host can have (never pull them). */
export function isKubeliteImage(ref: string): boolean {
  return imageKeyOf(ref) !== undefined && ref.includes('/');
}

export function splitRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

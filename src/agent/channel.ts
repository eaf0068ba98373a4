// Kubernetes' remotecommand protocol over WebSocket (v4.channel.k8s.io, v5.channel.k8s.io): every
// binary message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (a JSON Status that
// ends the command), 4 resize ({"Width":w,"Height":h}), and in v5 255 "close" (payload: the channel
// being half-closed). Shared by the server side (exec.ts) and our CLI client. Pure.

import { parseBoolParam } from '../api/query.js';

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';
/** What we serve, best first. v1-v3 differ in how errors and exit codes travel; kubectl 1.30+ speaks v5. */
export const SUPPORTED_PROTOCOLS: readonly string[] = [V5, V4];

export function pickProtocol(offered: Iterable<string>): string | undefined {
  const set = new Set([...offered].map((p) => p.trim()));
  return SUPPORTED_PROTOCOLS.find((p) => set.has(p));
}

export function encodeMessage(channel: number, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = channel;
  payload.copy(out, 1);
  return out;
}

export function decodeMessage(msg: Buffer): { channel: number; data: Buffer } | undefined {
  if (msg.length === 0) return undefined;
  return { channel: msg[0], data: msg.subarray(1) };
}

export function parseResize(data: Buffer): { width: number; height: number } | undefined {
  try {
    const v = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const w = Number(v.Width);
    const h = Number(v.Height);
    if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0 || w > 65535 || h > 65535) return undefined;
    return { width: w, height: h };
  } catch {
    return undefined;
  }
}

export interface ChannelStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The Status the kubelet's streaming server sends on channel 3 when the command ends. */
export function exitStatus(exitCode: number, command: string[]): ChannelStatus {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

export function failureStatus(message: string, reason = 'InternalError'): ChannelStatus {
  return { metadata: {}, status: 'Failure', message, reason };
}

/** Client side (client-go's errorDecoderV4): the remote command's exit code, or an error message. */
export function readStatus(raw: Buffer | string): { exitCode: number; message?: string } {
  let st: ChannelStatus;
  try {
    st = JSON.parse(raw.toString()) as ChannelStatus;
  } catch {
    return { exitCode: 1, message: `error stream protocol error: ${raw.toString().slice(0, 200)}` };
  }
  if (st.status === 'Success') return { exitCode: 0 };
  if (st.reason === 'NonZeroExitCode') {
    const cause = st.details?.causes?.find((c) => c.reason === 'ExitCode');
    const n = Number(cause?.message);
    if (Number.isInteger(n) && n >= 0 && n <= 255) return { exitCode: n, message: `command terminated with exit code ${n}` };
    return { exitCode: 1, message: 'error stream protocol error: no ExitCode cause given' };
  }
  return { exitCode: 1, message: st.message ?? 'error stream protocol error: unknown error' };
}

export interface ExecRequest {
  command: string[];
  container?: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

function flag(q: URLSearchParams, name: string): boolean {
  return parseBoolParam(name, q.get(name) ?? undefined) ?? false;
}

/** `?command=a&command=b&container=c&stdin=true&stdout=true&stderr=true&tty=false`, as kubectl sends it. */
export function parseExecQuery(q: URLSearchParams): ExecRequest {
  const command = q.getAll('command');
  if (command.length === 0) throw new Error('you must specify at least one command for the container');
  const req: ExecRequest = { command, container: q.get('container') || undefined, stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr'), tty: flag(q, 'tty') };
  // With a TTY, stderr is merged into stdout (as in Kubernetes).
  if (req.tty) req.stderr = false;
  if (!req.stdin && !req.stdout && !req.stderr) throw new Error('you must specify at least 1 of stdin, stdout, stderr');
  return req;
}

export type AttachRequest = Omit<ExecRequest, 'command'>;

/** `?container=c&stdin=true&stdout=true&stderr=true&tty=false`, as kubectl attach and run -i send it. */
export function parseAttachQuery(q: URLSearchParams): AttachRequest {
  const req: AttachRequest = { container: q.get('container') || undefined, stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr'), tty: flag(q, 'tty') };
  if (req.tty) req.stderr = false;
  if (!req.stdin && !req.stdout && !req.stderr) throw new Error('you must specify at least 1 of stdin, stdout, stderr');
  return req;
}

/** The Status the kubelet sends on channel 3 when an attach ends (the container's exit is not its to report). */
export function attachEndStatus(): ChannelStatus {
  return { metadata: {}, status: 'Success' };
}

export function execQuery(req: ExecRequest): string {
  const q = new URLSearchParams();
  for (const c of req.command) q.append('command', c);
  if (req.container) q.set('container', req.container);
  q.set('stdin', String(req.stdin));
  q.set('stdout', String(req.stdout));
  q.set('stderr', String(req.stderr));
  q.set('tty', String(req.tty));
  return q.toString();
}

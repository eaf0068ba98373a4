// pods/exec and pods/attach over WebSocket (what kubectl 1.30+ tries first): the upgrade is checked
// (Pod, container, subprotocol) before it is accepted, so a bad request gets an HTTP Status kubectl can
// print; then a `docker exec` (or, for attach, the container's own stdio through `docker attach`) is
// bridged to the channel protocol of channel.ts. An exec's exit code travels back as the Status on
// channel 3 before a normal close; an attach ends with Success when the container's streams end.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors } from '../api/errors.js';
import type { ApiClient } from '../client/types.js';
import { parsePath } from '../server/paths.js';
import type { UpgradeHandler } from '../server/component.js';
import {
  attachEndStatus,
  CHANNEL,
  decodeMessage,
  encodeMessage,
  exitStatus,
  failureStatus,
  parseAttachQuery,
  parseExecQuery,
  parseResize,
  pickProtocol,
  SUPPORTED_PROTOCOLS,
  V5,
  type AttachRequest,
  type ChannelStatus,
  type ExecRequest,
} from './channel.js';
import { dockerMessage, type DockerRuntime } from './docker.js';
import { FrameDemuxer } from './frames.js';
import { isRunning } from './observed.js';
import type { RuntimeCache } from './runtime-cache.js';
import { checkStreamable, selectContainer, statusHttpResponse } from './stream-select.js';
import { keyFor } from '../api/keys.js';
import type { LeveledLogger } from '../util/log.js';

type Logger = Pick<LeveledLogger, 'debug' | 'warn'>;

export interface ExecDeps {
  client: ApiClient;
  runtime: DockerRuntime;
  cache: RuntimeCache;
  logger: Logger;
}

function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  return (Array.isArray(h) ? h.join(',') : (h ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
}

export function execUpgradeHandler(deps: ExecDeps): UpgradeHandler {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (protocols) => pickProtocol(protocols) ?? false });
  return (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let parsed: ReturnType<typeof parsePath>;
    try {
      parsed = parsePath(url.pathname);
    } catch {
      return false; // a malformed path is the API server's to refuse
    }
    if (parsed.kind !== 'resource' || parsed.path.resource !== R.pods || !parsed.path.name) return false;
    const sub = parsed.path.subresource;
    if (sub !== 'exec' && sub !== 'attach') return false;
    socket.on('error', () => undefined);
    const namespace = parsed.path.namespace ?? 'default';
    const name = parsed.path.name;
    void (sub === 'exec' ? prepareExec(deps, req, url, namespace, name) : prepareAttach(deps, req, url, namespace, name))
      .then((session) => {
        if (socket.destroyed) return session.stream.destroy();
        wss.handleUpgrade(req, socket, head, (ws) => bridgeSession(deps, ws, session));
      })
      .catch((err) => {
        deps.logger.debug({ err: (err as Error).message, path: url.pathname }, `${sub} refused`);
        if (!socket.destroyed) socket.end(statusHttpResponse(err));
      });
    return true;
  };
}

/** One WebSocket session: a hijacked Docker stream bridged to the channel protocol, and how it ends. */
export interface StreamSession {
  stream: Duplex;
  stdin: boolean;
  tty: boolean;
  resize(width: number, height: number): Promise<void>;
  /** The Status sent on channel 3 once the stream has ended. */
  finish(): Promise<ChannelStatus>;
}

/** The checks both exec and attach make before they accept an upgrade (so a bad request gets an HTTP Status). */
async function checkUpgrade(deps: ExecDeps, req: IncomingMessage, namespace: string, name: string, requested: string | undefined, what: 'exec' | 'attach'): Promise<{ pod: Pod; container: string }> {
  const pod = await deps.client.get<Pod>(R.pods, namespace, name);
  if (what === 'attach' && (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')) {
    throw errors.badRequest(`cannot attach a container in a completed pod; current phase is ${pod.status.phase}`);
  }
  checkStreamable(pod, 'exec');
  const container = selectContainer(pod, requested);
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    throw errors.badRequest(`kubelite serves pods/${what} over WebSocket only (subprotocols ${SUPPORTED_PROTOCOLS.join(', ')}); SPDY is not supported: use kubectl 1.30 or newer, or \`kubelite exec\``);
  }
  if (!pickProtocol(offeredProtocols(req))) {
    throw errors.badRequest(`unsupported ${what} subprotocols [${offeredProtocols(req).join(', ')}]: kubelite speaks ${SUPPORTED_PROTOCOLS.join(', ')}`);
  }
  return { pod, container };
}

function runningContainer(deps: ExecDeps, pod: Pod, namespace: string, name: string, container: string): string {
  const target = deps.cache
    .forPod(keyFor(namespace, name))
    .filter((c) => c.podUid === pod.metadata.uid && c.role === 'app' && c.containerName === container && isRunning(c))
    .sort((a, b) => b.restartCount - a.restartCount)[0];
  if (!target) throw errors.badRequest(`unable to upgrade connection: container not found ("${container}")`);
  return target.id;
}

async function prepareExec(deps: ExecDeps, req: IncomingMessage, url: URL, namespace: string, name: string): Promise<StreamSession> {
  let er: ExecRequest;
  try {
    er = parseExecQuery(url.searchParams);
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
  const { pod, container } = await checkUpgrade(deps, req, namespace, name, er.container, 'exec');
  const id = runningContainer(deps, pod, namespace, name, container);
  try {
    const { stream, exec } = await deps.runtime.execInteractive(id, { cmd: er.command, stdin: er.stdin, stdout: er.stdout, stderr: er.stderr, tty: er.tty });
    return {
      stream,
      stdin: er.stdin,
      tty: er.tty,
      resize: (w, h) => deps.runtime.execResize(exec, w, h),
      finish: async () => {
        const code = await exitCodeOf(deps, exec);
        return code === undefined ? failureStatus('the command ended but its exit code is unknown') : exitStatus(code, er.command);
      },
    };
  } catch (err) {
    throw errors.internal(`error executing command in container ${container}: ${dockerMessage(err)}`);
  }
}

/** pods/attach: the container's own stdin/stdout/stderr (kubectl attach, kubectl run -i). */
async function prepareAttach(deps: ExecDeps, req: IncomingMessage, url: URL, namespace: string, name: string): Promise<StreamSession> {
  let ar: AttachRequest;
  try {
    ar = parseAttachQuery(url.searchParams);
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
  const { pod, container } = await checkUpgrade(deps, req, namespace, name, ar.container, 'attach');
  const id = runningContainer(deps, pod, namespace, name, container);
  try {
    const { stream, tty } = await deps.runtime.attachInteractive(id, { stdin: ar.stdin, stdout: ar.stdout, stderr: ar.stderr });
    // Docker's attach to a container that has already stopped waits for it to start again: a command
    // as short as `kubectl run -i ... -- echo hi` would hang. If it stopped before the attach took, its
    // whole output is what there is to see (nothing else can come): send that and end.
    const info = await deps.runtime.inspectRaw(id);
    if (!info?.State?.Running) {
      stream.destroy();
      const logs = await deps.runtime.logs(id, { follow: false });
      return { stream: logs as unknown as Duplex, stdin: false, tty, resize: async () => undefined, finish: async () => attachEndStatus() };
    }
    return { stream, stdin: ar.stdin, tty, resize: (w, h) => deps.runtime.containerResize(id, w, h), finish: async () => attachEndStatus() };
  } catch (err) {
    throw errors.internal(`error attaching to container ${container}: ${dockerMessage(err)}`);
  }
}

async function exitCodeOf(deps: ExecDeps, exec: Awaited<ReturnType<DockerRuntime['execInteractive']>>['exec']): Promise<number | undefined> {
  // Docker marks the exec finished a moment after its stream ends.
  for (let i = 0; i < 50; i++) {
    const code = await deps.runtime.execExitCode(exec).catch(() => -1);
    if (code !== undefined) return code;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

function bridgeSession(deps: ExecDeps, ws: WebSocket, session: StreamSession): void {
  const { stream } = session;
  const v5 = ws.protocol === V5;
  const demux = new FrameDemuxer();
  let closed = false;
  const send = (channel: number, data: Buffer | string) => {
    if (ws.readyState === ws.OPEN) ws.send(encodeMessage(channel, data), { binary: true });
  };

  stream.on('data', (chunk: Buffer) => {
    if (session.tty) send(CHANNEL.stdout, chunk);
    else for (const f of demux.push(chunk)) send(f.stream === 2 ? CHANNEL.stderr : CHANNEL.stdout, f.data);
  });
  let ended = false;
  const onEnd = () => {
    if (ended) return;
    ended = true;
    void session.finish().then((status) => {
      if (closed) return;
      send(CHANNEL.error, JSON.stringify(status));
      closed = true;
      ws.close(1000);
    });
  };
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('error', (err) => {
    deps.logger.debug({ err: err.message }, 'stream error');
    onEnd();
  });

  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const msg = decodeMessage(Buffer.isBuffer(raw) ? raw : Buffer.from(raw as unknown as ArrayBuffer));
    if (!msg) return;
    if (msg.channel === CHANNEL.stdin && session.stdin) {
      if (msg.data.length) stream.write(msg.data);
    } else if (msg.channel === CHANNEL.resize && session.tty) {
      const size = parseResize(msg.data);
      if (size) void session.resize(size.width, size.height).catch(() => undefined);
    } else if (msg.channel === CHANNEL.close && v5 && msg.data[0] === CHANNEL.stdin) {
      // The client's stdin ended: half-close, so the command sees EOF.
      stream.end();
    }
  });
  ws.on('close', () => {
    closed = true;
    if (!ended) stream.destroy();
  });
  ws.on('error', () => {
    closed = true;
    stream.destroy();
  });
}

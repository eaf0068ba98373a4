// pods/exec over WebSocket (what kubectl 1.30+ tries first): the upgrade is checked (Pod, container,
// subprotocol) before it is accepted, so a bad request gets an HTTP Status kubectl can print; then a
// `docker exec` is bridged to the channel protocol of channel.ts, and the command's exit code travels
// back as the Status on channel 3 before a normal close.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors } from '../api/errors.js';
import type { ApiClient } from '../client/types.js';
import { parsePath } from '../server/paths.js';
import type { UpgradeHandler } from '../server/component.js';
import { CHANNEL, decodeMessage, encodeMessage, exitStatus, failureStatus, parseExecQuery, parseResize, pickProtocol, SUPPORTED_PROTOCOLS, V5, type ExecRequest } from './channel.js';
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
    const parsed = parsePath(url.pathname);
    if (parsed.kind !== 'resource' || parsed.path.resource !== R.pods || parsed.path.subresource !== 'exec' || !parsed.path.name) return false;
    socket.on('error', () => undefined);
    void prepare(deps, req, url, parsed.path.namespace ?? 'default', parsed.path.name)
      .then((ready) => {
        if (socket.destroyed) return ready.stream.destroy();
        wss.handleUpgrade(req, socket, head, (ws) => bridge(deps, ws, ready));
      })
      .catch((err) => {
        deps.logger.debug({ err: (err as Error).message, path: url.pathname }, 'exec refused');
        if (!socket.destroyed) socket.end(statusHttpResponse(err));
      });
    return true;
  };
}

interface Ready {
  req: ExecRequest;
  stream: Duplex;
  exec: Awaited<ReturnType<DockerRuntime['execInteractive']>>['exec'];
}

async function prepare(deps: ExecDeps, req: IncomingMessage, url: URL, namespace: string, name: string): Promise<Ready> {
  const isWebSocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
  let er: ExecRequest;
  try {
    er = parseExecQuery(url.searchParams);
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
  const pod = await deps.client.get<Pod>(R.pods, namespace, name);
  checkStreamable(pod, 'exec');
  const container = selectContainer(pod, er.container);
  if (!isWebSocket) {
    throw errors.badRequest(`kubelite serves pods/exec over WebSocket only (subprotocols ${SUPPORTED_PROTOCOLS.join(', ')}); SPDY is not supported: use kubectl 1.30 or newer, or \`kubelite exec\``);
  }
  if (!pickProtocol(offeredProtocols(req))) {
    throw errors.badRequest(`unsupported exec subprotocols [${offeredProtocols(req).join(', ')}]: kubelite speaks ${SUPPORTED_PROTOCOLS.join(', ')}`);
  }
  const target = deps.cache
    .forPod(keyFor(namespace, name))
    .filter((c) => c.podUid === pod.metadata.uid && c.role === 'app' && c.containerName === container && isRunning(c))
    .sort((a, b) => b.restartCount - a.restartCount)[0];
  if (!target) throw errors.badRequest(`unable to upgrade connection: container not found ("${container}")`);
  try {
    const { stream, exec } = await deps.runtime.execInteractive(target.id, { cmd: er.command, stdin: er.stdin, stdout: er.stdout, stderr: er.stderr, tty: er.tty });
    return { req: { ...er, container }, stream, exec };
  } catch (err) {
    throw errors.internal(`error executing command in container ${container}: ${dockerMessage(err)}`);
  }
}

async function exitCodeOf(deps: ExecDeps, exec: Ready['exec']): Promise<number | undefined> {
  // Docker marks the exec finished a moment after its stream ends.
  for (let i = 0; i < 50; i++) {
    const code = await deps.runtime.execExitCode(exec).catch(() => -1);
    if (code !== undefined) return code;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

function bridge(deps: ExecDeps, ws: WebSocket, ready: Ready): void {
  const { req, stream, exec } = ready;
  const v5 = ws.protocol === V5;
  const demux = new FrameDemuxer();
  let closed = false;
  const send = (channel: number, data: Buffer | string) => {
    if (ws.readyState === ws.OPEN) ws.send(encodeMessage(channel, data), { binary: true });
  };

  stream.on('data', (chunk: Buffer) => {
    if (req.tty) send(CHANNEL.stdout, chunk);
    else for (const f of demux.push(chunk)) send(f.stream === 2 ? CHANNEL.stderr : CHANNEL.stdout, f.data);
  });
  let ended = false;
  const onEnd = () => {
    if (ended) return;
    ended = true;
    void exitCodeOf(deps, exec).then((code) => {
      if (closed) return;
      const status = code === undefined ? failureStatus('the command ended but its exit code is unknown') : exitStatus(code, req.command);
      send(CHANNEL.error, JSON.stringify(status));
      closed = true;
      ws.close(1000);
    });
  };
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('error', (err) => {
    deps.logger.debug({ err: err.message }, 'exec stream error');
    onEnd();
  });

  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const msg = decodeMessage(Buffer.isBuffer(raw) ? raw : Buffer.from(raw as unknown as ArrayBuffer));
    if (!msg) return;
    if (msg.channel === CHANNEL.stdin && req.stdin) {
      if (msg.data.length) stream.write(msg.data);
    } else if (msg.channel === CHANNEL.resize && req.tty) {
      const size = parseResize(msg.data);
      if (size) void deps.runtime.execResize(exec, size.width, size.height).catch(() => undefined);
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

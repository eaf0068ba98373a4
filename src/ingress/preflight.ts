// Checks before the ingress starts HAProxy, so that a missing package or a taken port is one clear
// line naming the fix instead of a child process dying with an exit code.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The runtime API commands kubelite uses (`add ssl crt-list`, `set server ... addr`) need 2.4 or later. */
export const MIN_HAPROXY = [2, 4] as const;

export function findBinary(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of [...pathEnv.split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/local/sbin']) {
    const p = path.join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `HAProxy version 2.6.12-1+deb12u1 2023/12/16 ...` -> [2, 6]. */
export function parseHAProxyVersion(text: string): [number, number] | undefined {
  const m = /HA-?Proxy version (\d+)\.(\d+)/i.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export class IngressSetupError extends Error {}

const HOW_TO_SKIP = 'or start the server with --disable ingress';

/** The HAProxy binary to run, or an error that says how to get one. */
export function checkHAProxy(binary = 'haproxy'): string {
  const found = findBinary(binary);
  if (!found) throw new IngressSetupError(`the ingress needs HAProxy, and ${JSON.stringify(binary)} is not installed: apt-get install haproxy (${HOW_TO_SKIP})`);
  const r = spawnSync(found, ['-v'], { encoding: 'utf8', timeout: 5000 });
  const version = parseHAProxyVersion(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (!version) throw new IngressSetupError(`${found} -v did not print an HAProxy version (${(r.error?.message ?? r.stderr ?? '').trim() || `exit ${r.status}`}); reinstall it: apt-get install --reinstall haproxy (${HOW_TO_SKIP})`);
  if (version[0] < MIN_HAPROXY[0] || (version[0] === MIN_HAPROXY[0] && version[1] < MIN_HAPROXY[1])) {
    throw new IngressSetupError(`the ingress needs HAProxy ${MIN_HAPROXY.join('.')} or later, ${found} is ${version.join('.')} (${HOW_TO_SKIP})`);
  }
  return found;
}

/** Why a port cannot be bound right now, or undefined when it can. */
export function probePort(address: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.listen({ port, host: address, exclusive: true }, () => s.close(() => resolve(undefined)));
  });
}

/** A start failure in words: a taken or privileged port names the flag to change. */
export async function explainStartFailure(err: Error, ports: { address: string; http: number; https: number }): Promise<Error> {
  for (const [flag, port] of [['--ingress-http-port', ports.http], ['--ingress-https-port', ports.https]] as const) {
    const why = await probePort(ports.address, port);
    if (why === 'EADDRINUSE') return new IngressSetupError(`the ingress cannot listen on ${ports.address}:${port}: the address is in use (another web server or kubelite?); pass ${flag}, ${HOW_TO_SKIP}`);
    if (why === 'EACCES') return new IngressSetupError(`the ingress cannot listen on ${ports.address}:${port}: ports below 1024 need root; run as root, pass ${flag}, ${HOW_TO_SKIP}`);
    if (why === 'EADDRNOTAVAIL') return new IngressSetupError(`the ingress cannot listen on ${ports.address}:${port}: no such local address; ${HOW_TO_SKIP}`);
  }
  return new IngressSetupError(`the ingress proxy did not start: ${err.message}`);
}

/**
 * Where HAProxy's config, maps, certificates and sockets live: under the data dir when that path is
 * short and plain enough (unix socket paths stop at 107 bytes, the config takes no quoting), else in
 * /run, named after the instance.
 */
export function ingressRunDir(dataDir: string, instance: string): string {
  const preferred = path.join(path.resolve(dataDir), 'ingress', 'run');
  if (/^\/[A-Za-z0-9._/-]+$/.test(preferred) && `${preferred}/master.sock`.length <= 100) return preferred;
  return `/run/kubelite/ingress-${instance || 'default'}`;
}

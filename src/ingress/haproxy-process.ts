// The HAProxy master process kubelite drives: master-worker mode, reloads through the master CLI
// (listening sockets pass to the new worker, so no connection is refused), and commands to the
// worker's runtime API. No shell anywhere: argument arrays only.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const consoleLogger: Logger = {
  info: (m) => console.log(`ingress: ${m}`),
  warn: (m) => console.warn(`ingress: ${m}`),
  error: (m) => console.error(`ingress: ${m}`),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** One request/answer on a HAProxy CLI socket (non-interactive mode: the server closes after answering). */
export function cliRequest(path: string, command: string, timeoutMs = 5000, halfClose = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    let out = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`haproxy CLI ${path}: no answer to ${JSON.stringify(command.split('\n')[0])} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (out += d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    const line = command.endsWith('\n') ? command : `${command}\n`;
    // The master CLI answers only once the client has shut its side; a worker command that yields
    // (add ssl crt-list) is aborted by it, and the worker closes by itself after answering.
    if (halfClose) sock.end(line);
    else sock.write(line);
  });
}

export class HAProxyProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  readonly adminSocket: string;
  readonly masterSocket: string;
  readonly pidFile: string;
  /** called when the master exits without stop(): the owner restarts it */
  onUnexpectedExit?: () => void;

  constructor(
    private readonly runDir: string,
    private readonly configPath: string,
    private readonly log: Logger,
    private readonly binary = 'haproxy',
  ) {
    this.adminSocket = `${runDir}/admin.sock`;
    this.masterSocket = `${runDir}/master.sock`;
    this.pidFile = `${runDir}/haproxy.pid`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A master left behind by a kubelite that died holds our ports: end it, but only if it is ours. */
  private killStale(): void {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(this.pidFile, 'utf8').trim().split('\n')[0]);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1) return;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((a) => a.endsWith('haproxy')) && cmdline.includes(this.configPath)) {
        this.log.warn(`ending a stale haproxy master (pid ${pid}) left by an earlier run`);
        process.kill(pid, 'SIGTERM');
      }
    } catch {
      /* gone already */
    }
  }

  async start(timeoutMs = 10_000): Promise<void> {
    this.killStale();
    for (const s of [this.adminSocket, this.masterSocket]) fs.rmSync(s, { force: true });
    const child = spawn(this.binary, ['-W', '-S', `${this.masterSocket},mode,600`, '-f', this.configPath, '-p', this.pidFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let spawnError: Error | undefined;
    child.once('error', (e) => (spawnError = e));
    // if kubelite dies without stop(), do not leave a proxy holding the ports
    const orphanGuard = () => child.kill('SIGTERM');
    process.once('exit', orphanGuard);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => process.removeListener('exit', orphanGuard));
    const relay = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        // server state changes and per-proxy stop notices are routine here; alerts are not
        if (/ALERT/.test(line) && !/has no server available|Current worker|exited with code/.test(line)) this.log.warn(`haproxy: ${line.trim()}`);
      }
    };
    child.stdout?.on('data', relay);
    child.stderr?.on('data', relay);
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.log.warn(`haproxy master exited (code ${code}, signal ${signal})`);
      this.onUnexpectedExit?.();
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (spawnError) {
        this.child = undefined;
        throw new Error(`cannot run ${this.binary}: ${spawnError.message} (the ingress needs Debian's haproxy package: apt-get install haproxy)`);
      }
      if (!this.running) throw new Error(`haproxy exited at start (code ${child.exitCode}); check the rendered ${this.configPath} with: haproxy -c -f ${this.configPath}`);
      if (await this.workerPid().catch(() => undefined)) return;
      await sleep(5);
    }
    throw new Error(`haproxy did not come up within ${timeoutMs} ms`);
  }

  async workerPid(): Promise<number | undefined> {
    const info = await cliRequest(this.adminSocket, 'show info', 1000, false);
    const m = /^Pid: (\d+)/m.exec(info);
    return m ? Number(m[1]) : undefined;
  }

  async command(cmd: string): Promise<string> {
    return cliRequest(this.adminSocket, cmd, 5000, false);
  }

  /** Re-read the configuration; resolves once the new worker answers (it then owns the listeners). */
  async reload(timeoutMs = 10_000): Promise<void> {
    const before = await this.workerPid().catch(() => undefined);
    const failedBefore = await this.failedReloads();
    // Right after a start or a reload the master may not serve its CLI yet: ask again until it does.
    let asked = 0;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (Date.now() - asked > 1000) {
        asked = Date.now();
        await cliRequest(this.masterSocket, 'reload', 1000).catch(() => '');
      }
      const pid = await this.workerPid().catch(() => undefined);
      if (pid && pid !== before) return;
      const failed = await this.failedReloads().catch(() => failedBefore);
      if (failed > failedBefore) throw new Error(`haproxy rejected the new configuration; the previous one keeps serving (see: haproxy -c -f ${this.configPath})`);
      await sleep(2);
    }
    throw new Error(`haproxy reload did not finish within ${timeoutMs} ms`);
  }

  private async failedReloads(): Promise<number> {
    const out = await cliRequest(this.masterSocket, 'show proc', 1000);
    const m = /master\s+\d+\s+\[failed: (\d+)\]/.exec(out);
    return m ? Number(m[1]) : 0;
  }

  /** Soft stop: workers finish in-flight requests (up to hard-stop-after), then everything exits. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.child = undefined;
    // A master that has just started or reloaded may not handle signals yet: repeat the soft stop.
    const exited = this.exited!.then(() => true);
    const deadline = Date.now() + graceMs;
    let done = false;
    while (!done && Date.now() < deadline) {
      child.kill('SIGUSR1');
      done = await Promise.race([exited, sleep(200).then(() => false)]);
    }
    if (!done) {
      child.kill('SIGTERM');
      const gone = await Promise.race([exited, sleep(2000).then(() => false)]);
      if (!gone) child.kill('SIGKILL');
      await this.exited;
    }
  }
}

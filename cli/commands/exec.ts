// `kubelite exec POD [-c C] [-i] [-t] -- CMD...`: runs a command in a Pod's container over the
// API's exec WebSocket (the channel protocol kubectl speaks) and exits with the command's exit code.

import WebSocket from 'ws';
import type { Command } from 'commander';
import type { Pod } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { resourcePath } from '../../src/client/http-client.js';
import { CHANNEL, decodeMessage, encodeMessage, execQuery, readStatus, SUPPORTED_PROTOCOLS, V5 } from '../../src/agent/channel.js';
import { checkName, CliError, cliContext, run, type GlobalOptions } from '../context.js';
import { connectionOptions, defaultContainer, statusFromBody } from './logs.js';

interface ExecOptions extends GlobalOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('Run a command in a container: kubelite exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]')
    .argument('<pod>', 'pod name (or pod/NAME)')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('-c, --container <name>', 'container name (default: the only one, or the first)')
    .option('-i, --stdin', 'pass stdin to the command')
    .option('-t, --tty', 'allocate a terminal')
    .action((podArg: string, command: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<ExecOptions>();
        if (!command.length) throw new CliError('error: you must specify at least one command for the container, after --: kubelite exec POD -- COMMAND');
        const name = checkName(R.pods, podArg.replace(/^(pods?|po)\//, ''));
        const { client, namespace } = cliContext(opts);
        const pod = await client.get<Pod>(R.pods, namespace, name);
        if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') throw new CliError(`error: cannot exec into a container in a completed pod; current phase is ${pod.status.phase}`);
        const chosen = defaultContainer(pod, opts.container);
        if (chosen.note) process.stderr.write(chosen.note + '\n');
        const tty = !!opts.tty && !!process.stdin.isTTY;
        if (opts.tty && !tty) process.stderr.write('Unable to use a TTY - input is not a terminal or the right kind of file\n');
        const query = execQuery({ command, container: chosen.name, stdin: !!opts.stdin, stdout: true, stderr: !tty, tty });
        const base = new URL(client.conn.server);
        const url = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${resourcePath(R.pods, namespace, name, 'exec')}?${query}`;
        const o = connectionOptions(client.conn);
        const code = await runExec(url, o, { stdin: !!opts.stdin, tty });
        client.close();
        return code;
      }),
    );
}

function runExec(url: string, o: ReturnType<typeof connectionOptions>, mode: { stdin: boolean; tty: boolean }): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [...SUPPORTED_PROTOCOLS], { ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, headers: o.headers, perMessageDeflate: false });
    let result: { exitCode: number; message?: string } | undefined;
    let rawMode = false;
    const restore = () => {
      if (rawMode) process.stdin.setRawMode?.(false);
      rawMode = false;
      process.stdout.off('resize', onResize);
      if (mode.stdin) {
        process.stdin.pause();
        process.stdin.removeAllListeners('data');
      }
    };
    const onResize = () => {
      if (ws.readyState === ws.OPEN && process.stdout.columns) ws.send(encodeMessage(CHANNEL.resize, JSON.stringify({ Width: process.stdout.columns, Height: process.stdout.rows })));
    };
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => reject(statusFromBody(res.statusCode ?? 0, body)));
    });
    ws.on('error', (err) => {
      restore();
      reject(err);
    });
    ws.on('open', () => {
      if (mode.tty) {
        if (process.stdin.isTTY) {
          process.stdin.setRawMode(true);
          rawMode = true;
        }
        onResize();
        process.stdout.on('resize', onResize);
      }
      if (mode.stdin) {
        process.stdin.on('data', (chunk: Buffer) => {
          if (ws.readyState === ws.OPEN) ws.send(encodeMessage(CHANNEL.stdin, chunk));
        });
        process.stdin.on('end', () => {
          // v5 can say "stdin is done"; with v4 the command only sees EOF when the connection closes.
          if (ws.readyState === ws.OPEN && ws.protocol === V5) ws.send(encodeMessage(CHANNEL.close, Buffer.from([CHANNEL.stdin])));
        });
        process.stdin.resume();
      }
    });
    ws.on('message', (raw: Buffer) => {
      const msg = decodeMessage(raw);
      if (!msg) return;
      if (msg.channel === CHANNEL.stdout) process.stdout.write(msg.data);
      else if (msg.channel === CHANNEL.stderr) process.stderr.write(msg.data);
      else if (msg.channel === CHANNEL.error) result = readStatus(msg.data);
    });
    ws.on('close', () => {
      restore();
      if (!result) {
        process.stderr.write('error: the exec connection closed without an exit status\n');
        return resolve(1);
      }
      if (result.exitCode !== 0 && result.message) process.stderr.write(`${result.message}\n`);
      resolve(result.exitCode);
    });
  });
}

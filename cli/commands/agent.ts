// `kubelite agent`: join this Docker host to a kubelite server as a node.

import fs from 'node:fs';
import type { Command } from 'commander';
import type { Component as ComponentName } from '../../src/config.js';
import { INSTANCE_RE } from '../../src/config.js';
import { parseJoinToken } from '../../src/server/join-token.js';
import { createLogger } from '../../src/util/log.js';
import { CliError, run } from '../context.js';
import { nodeIPFlag } from './server.js';

interface AgentFlags {
  server: string;
  token?: string;
  tokenFile?: string;
  nodeName?: string;
  nodeIp?: string;
  dataDir: string;
  instance?: string;
  kubeletPort: string;
  disable?: string[];
  logLevel: string;
}

const AGENT_OPTIONAL: ComponentName[] = ['proxy', 'dns'];

/** --server URL[,URL...] -> checked https URLs. */
export function parseServers(v: string): string[] {
  const out: string[] = [];
  for (const s of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new CliError(`error: --server ${JSON.stringify(s)}: expected https://HOST:PORT`);
    }
    if (u.protocol !== 'https:' || u.pathname !== '/' || u.search || u.username) throw new CliError(`error: --server ${JSON.stringify(s)}: expected https://HOST:PORT (the server's API)`);
    out.push(`https://${u.host}`);
  }
  if (!out.length) throw new CliError('error: --server is required: https://HOST:6443 of the kubelite server to join');
  return out;
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('Join this Docker host to a kubelite server as a node (its Pods, pod network, proxier and DNS replica)')
    .requiredOption('--server <urls>', 'the server\'s API, https://HOST:6443 (several, comma-separated, are tried in turn)')
    .option('--token <token>', 'the join token the server printed (K10<ca-hash>::node:<secret>; also in the server\'s <data-dir>/join-token)')
    .option('--token-file <file>', 'read the join token from this file')
    .option('--node-name <name>', 'this node\'s name (default: hostname)')
    .option('--node-ip <ip>', 'this node\'s address (default: the address of the default route\'s interface)')
    .option('--data-dir <dir>', 'where the agent keeps its node password and credentials', '/var/lib/kubelite-agent')
    .option('--instance <id>', 'tags containers, chains and devices (1-6 of a-z0-9), as for kubelite server')
    .option('--kubelet-port <port>', 'the port the API server reaches this node\'s Pods on (logs, exec, port-forward, images)', '10250')
    .option('--disable <components...>', `turn components off: ${AGENT_OPTIONAL.join(', ')}`)
    .option('--log-level <level>', 'trace | debug | info | warn | error', 'info')
    .action((flags: AgentFlags) =>
      run(async () => {
        const servers = parseServers(flags.server);
        let token = flags.token;
        if (!token && flags.tokenFile) {
          try {
            token = fs.readFileSync(flags.tokenFile, 'utf8').trim();
          } catch (err) {
            throw new CliError(`error: --token-file ${flags.tokenFile}: ${(err as Error).message}`);
          }
        }
        if (!token) throw new CliError('error: --token (or --token-file) is required: the join token `kubelite server` printed');
        try {
          parseJoinToken(token);
        } catch (err) {
          throw new CliError(`error: --token: ${(err as Error).message}`);
        }
        if (flags.instance && !INSTANCE_RE.test(flags.instance)) throw new CliError(`error: --instance ${JSON.stringify(flags.instance)}: 1-6 characters of a-z and 0-9`);
        const port = Number(flags.kubeletPort);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`error: --kubelet-port ${JSON.stringify(flags.kubeletPort)}: a port number`);
        const disabled: ComponentName[] = [];
        for (const d of (flags.disable ?? []).flatMap((x) => x.split(',')).map((s) => s.trim()).filter(Boolean)) {
          if (!AGENT_OPTIONAL.includes(d as ComponentName)) throw new CliError(`error: --disable ${d}: an agent can leave out ${AGENT_OPTIONAL.join(', ')}`);
          disabled.push(d as ComponentName);
        }
        if (process.getuid?.() !== 0) throw new CliError('error: kubelite agent needs root (Docker, routes, iptables)');
        const logger = createLogger(flags.logLevel);
        const { startAgent } = await import('../../src/main/agent.js');
        let agent: Awaited<ReturnType<typeof startAgent>>;
        try {
          agent = await startAgent({ servers, token, nodeName: flags.nodeName, nodeIP: nodeIPFlag(flags.nodeIp), dataDir: flags.dataDir, instance: flags.instance, kubeletPort: port, disabled, logLevel: flags.logLevel, logger });
        } catch (err) {
          throw new CliError(`error: cannot start kubelite agent: ${(err as Error).message}`);
        }
        process.stdout.write(`kubelite agent: node ${agent.nodeName} joined ${agent.server} (pods ${agent.config.nodePodCIDR})\n`);
        await new Promise<void>((resolve) => {
          const stop = (sig: string) => {
            logger.info({ signal: sig }, 'shutting down (the Pods keep running)');
            void agent.stop().then(resolve, resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
      }),
    );
}

// dockerode loads ssh2 (for ssh:// Docker hosts) and gRPC with protobuf (for BuildKit sessions) the
// moment it is imported: about 19 MiB of resident memory for code kubelite never runs, in a server
// whose whole budget with 100 Pods is 120 MiB. Import this module before anything imports dockerode:
// it puts small stand-ins for those three packages in the CommonJS cache, which fail with a clear
// message if they are ever used. When dockerode was already loaded, this does nothing.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function unsupported(what: string): never {
  throw new Error(`kubelite talks to Docker over a unix or tcp socket only: ${what} is not supported (set DOCKER_HOST to unix:///var/run/docker.sock or tcp://host:port)`);
}

function stubAt(from: string, name: string, exports: unknown): void {
  let path: string;
  try {
    path = createRequire(require.resolve(from)).resolve(name);
  } catch {
    return; // not installed: dockerode will fail on its own, with its own message
  }
  if (require.cache[path]?.loaded) return;
  require.cache[path] = { id: path, filename: path, loaded: true, exports, children: [], paths: [] } as unknown as NodeJS.Module;
}

let installed = false;

export function installLeanDockerode(): void {
  if (installed) return;
  installed = true;
  try {
    // (ESM imports put a not-yet-run entry in the cache while linking: only a loaded one counts)
    if (require.cache[require.resolve('dockerode')]?.loaded) return;
  } catch {
    return;
  }
  stubAt('docker-modem', 'ssh2', {
    Client: class {
      constructor() {
        unsupported('an ssh:// Docker host');
      }
    },
  });
  const noGrpc = () => unsupported('a BuildKit session');
  stubAt('dockerode', '@grpc/grpc-js', { loadPackageDefinition: noGrpc, Server: noGrpc, ServerCredentials: {} });
  stubAt('dockerode', '@grpc/proto-loader', { loadSync: noGrpc, load: noGrpc });
}

installLeanDockerode();

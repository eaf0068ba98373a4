// dockerode loads ssh2 (for ssh:// Docker hosts) and gRPC with protobuf (for BuildKit sessions) the
// moment it is imported: about 19 MiB of resident memory for code kubelite never runs, in a server
// whose whole budget with 100 Pods is 120 MiB. Import this module before anything imports dockerode:
// it puts small stand-ins for those three packages in the CommonJS cache: ssh2's fails with a clear
// message if it is ever used; gRPC's load the real package on first use (the etcd store needs it).
// When dockerode was already loaded, this does nothing.

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
  // gRPC is shared with the etcd client (`--store etcd://`): there it loads on first use instead.
  lazyAt('dockerode', '@grpc/grpc-js');
  lazyAt('dockerode', '@grpc/proto-loader');
}

/** Puts a stand-in in the cache that loads the real module the first time anything is read from it. */
function lazyAt(from: string, name: string): void {
  let path: string;
  try {
    path = createRequire(require.resolve(from)).resolve(name);
  } catch {
    return;
  }
  if (require.cache[path]?.loaded) return;
  let real: object | undefined;
  const load = (): object => {
    if (!real) {
      delete require.cache[path];
      real = require(path) as object;
    }
    return real;
  };
  const exports = new Proxy({}, {
    get: (_t, k) => Reflect.get(load(), k),
    has: (_t, k) => Reflect.has(load(), k),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_t, k) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), k);
      return d && { ...d, configurable: true };
    },
  });
  require.cache[path] = { id: path, filename: path, loaded: true, exports, children: [], paths: [] } as unknown as NodeJS.Module;
}

installLeanDockerode();

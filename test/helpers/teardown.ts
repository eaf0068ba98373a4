// The end of a file that ran a test server with the agent: what its instance left on this host goes.

import { LABELS } from '../../src/agent/labels.js';
import { cleanupInstance, type TestServer } from './server.js';
import { removeContainersByLabel, removeNetworksByLabel } from './docker.js';

/** Stops the server (if it started), removes its data dir and host rules, then its Pods' containers and networks. */
export async function tearDownServer(server: TestServer | undefined, slot: number): Promise<void> {
  const instance = server?.slot.instance ?? `t${slot}`;
  await server?.stop().catch(() => undefined);
  cleanupInstance(server);
  await removeContainersByLabel(LABELS.instance, instance).catch(() => 0);
  await removeNetworksByLabel(LABELS.instance, instance).catch(() => 0);
}

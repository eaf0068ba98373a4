import test from 'ava';
import type { KObject, Secret } from '../../../src/api/types.js';
import type { ResourceInfo } from '../../../src/api/resources.js';
import { errors } from '../../../src/api/errors.js';
import type { ApiClient } from '../../../src/client/types.js';
import { CREDENTIALS_SECRET, shareCredentials } from '../../../src/main/cluster-join.js';

/** Secrets only, with resourceVersion checks: enough for shareCredentials. */
function fakeClient(): ApiClient & { objects: Map<string, KObject> } {
  const objects = new Map<string, KObject>();
  let rv = 1;
  const key = (o: KObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  const c = {
    objects,
    async create<T extends KObject>(res: ResourceInfo, obj: T): Promise<T> {
      if (objects.has(key(obj))) throw errors.alreadyExists(res, obj.metadata.name!);
      const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv++) } };
      objects.set(key(obj), stored);
      return stored;
    },
    async get<T extends KObject>(res: ResourceInfo, ns: string | undefined, name: string): Promise<T> {
      const o = objects.get(`${ns}/${name}`);
      if (!o) throw errors.notFound(res, name);
      return o as T;
    },
    async update<T extends KObject>(res: ResourceInfo, obj: T): Promise<T> {
      const have = objects.get(key(obj));
      if (!have) throw errors.notFound(res, obj.metadata.name!);
      if (have.metadata.resourceVersion !== obj.metadata.resourceVersion) throw errors.conflict(res, obj.metadata.name!, 'changed');
      const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv++) } };
      objects.set(key(obj), stored);
      return stored;
    },
  };
  return c as unknown as ApiClient & { objects: Map<string, KObject> };
}

const creds = (n: string, saKey?: string) => ({ token: `token-${n}`, ca: { certPem: `ca-${n}`, keyPem: `cakey-${n}` }, ...(saKey ? { saKey } : {}) });

test('the first server records its CA, token and ServiceAccount key; a later one adopts all three', async (t) => {
  const client = fakeClient();
  const first = await shareCredentials(client, creds('a', 'sa-a'));
  t.false(first.adopted);
  const second = await shareCredentials(client, creds('b', 'sa-b'));
  t.true(second.adopted);
  t.is(second.token, 'token-a');
  t.is(second.saKey, 'sa-a');
  t.is(second.ca.certPem, 'ca-a');
  const again = await shareCredentials(client, creds('a', 'sa-a'));
  t.false(again.adopted, 'the same credentials: nothing to adopt');
});

test('a Secret recorded without a ServiceAccount key gets the first joiner\'s, which the next one adopts', async (t) => {
  const client = fakeClient();
  await shareCredentials(client, creds('a'));
  const second = await shareCredentials(client, creds('a', 'sa-b'));
  t.false(second.adopted, 'its own key became the cluster\'s');
  t.is(second.saKey, 'sa-b');
  const stored = client.objects.get(`kube-system/${CREDENTIALS_SECRET}`) as Secret;
  t.is(Buffer.from(stored.data!['sa.key']!, 'base64').toString(), 'sa-b');
  const third = await shareCredentials(client, creds('a', 'sa-c'));
  t.true(third.adopted);
  t.is(third.saKey, 'sa-b');
});

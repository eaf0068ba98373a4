// The live picture as things move (slot 32): a rolling update seen as it happens (old and new
// ReplicaSet revisions side by side on the page), the Event ticker, filters by label and name, and
// switching namespaces (one, or all of them).

import test from 'ava';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Deployment, Pod, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { cleanupInstance, ROOT, slotConfig, startTestServer, waitFor, waitForServiceRoute, type TestServer } from '../helpers/server.js';
import { launchBrowser, loginWithToken, type TestBrowser } from '../helpers/browser.js';

const SLOT = 32;
const slot = slotConfig(SLOT);
let server: TestServer | undefined;
let browser: TestBrowser | undefined;
let page: Page;

function srv(): TestServer {
  if (!server) throw new Error('server not started');
  return server;
}

const readyPods = async () =>
  (await srv().client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=my-backend' })).items.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

test.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the UI tests need root (Docker, iptables)');
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'dns,ingress', '--lb-pool', slot.lbPool] });
  await waitForServiceRoute(slot);
  for (const f of ['01-my-backend.yaml', '02-service-clusterip.yaml']) {
    const r = await srv().cli(['apply', '-f', path.join(ROOT, 'examples', f)]);
    if (r.code !== 0) throw new Error(`apply ${f}: ${r.stderr}`);
  }
  await waitFor(async () => (await readyPods()).length === 3, 120_000, '3 Ready Pods');
  browser = await launchBrowser();
  page = await browser.newPage();
  await loginWithToken(page, srv().client.conn.server, srv().client.conn.token!);
});

test.after.always(async () => {
  await browser?.close();
  await server?.stop();
  cleanupInstance(server);
});

test.serial('a rolling update is visible as it happens: both revisions on the page, then only the new one', async (t) => {
  await page.waitForFunction(() => document.querySelectorAll('.node[data-kind=pod][data-state=ready]').length === 3);
  // The page records the most revisions it ever showed at once (pod cards say "(rev N)").
  await page.evaluate(`(() => {
    window.__revs = new Set(); window.__together = 0;
    const look = () => {
      const seen = new Set();
      for (const el of document.querySelectorAll('.node[data-kind=pod]')) { const m = /\\(rev (\\d+)\\)/.exec(el.textContent); if (m) { seen.add(m[1]); window.__revs.add(m[1]); } }
      window.__together = Math.max(window.__together, seen.size);
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    look();
  })()`);
  await srv().client.patch<Deployment>(R.deployments, 'default', 'my-backend', 'strategic', { spec: { template: { metadata: { annotations: { 'example.com/rollout': '2' } } } } });
  await page.waitForFunction(
    () => {
      const cards = [...document.querySelectorAll('.node[data-kind=pod]')];
      return cards.length === 3 && cards.every((c) => (c as HTMLElement).dataset.state === 'ready' && /\(rev 2\)/.test(c.textContent ?? ''));
    },
    undefined,
    { timeout: 120_000 },
  );
  const seen = (await page.evaluate('[...window.__revs].sort()')) as string[];
  const together = (await page.evaluate('window.__together')) as number;
  t.deepEqual(seen, ['1', '2']);
  t.is(together, 2, 'old and new Pods were on the page together during the rollout');
  t.is(await page.$$eval('g.edge[data-from="svc:default/my-backend"][data-state=ready]', (els) => els.length), 3);
});

test.serial('the Event ticker shows the namespace\'s Events as they come', async (t) => {
  await page.waitForFunction(() => /ScalingReplicaSet|Killing|Started|Created/.test(document.querySelector('#ticker')?.textContent ?? ''), undefined, { timeout: 20_000 });
  const ticker = (await page.textContent('#ticker'))!;
  t.regex(ticker, /(ScalingReplicaSet|Killing|Started|Created)/);
});

test.serial('filter by label, search by name', async (t) => {
  await page.fill('#label', 'app=nothing-like-this');
  await page.waitForFunction(() => document.querySelectorAll('.node[data-kind=service]').length === 0);
  await page.fill('#label', 'app in (my-backend)');
  await page.waitForSelector('.node[data-kind=service][data-name=my-backend]');
  await page.fill('#label', 'app in (');
  await page.waitForSelector('#label.bad');
  await page.fill('#label', '');
  const [p] = await readyPods();
  await page.fill('#search', p.metadata.name!.slice(-5));
  await page.waitForFunction((n) => document.querySelectorAll('.node.hit').length === 1 && (document.querySelector('.node.hit') as HTMLElement).dataset.name === n, p.metadata.name);
  t.is(await page.$$eval('.node[data-kind=service]', (els) => els.length), 1, 'the road of the match stays');
  await page.fill('#search', '');
  await page.waitForFunction(() => location.search === '');
  t.true(page.url().endsWith('/ui/'), 'an empty filter leaves a clean address');
});

test.serial('one namespace or all of them', async (t) => {
  await srv().client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  await srv().client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'cart', namespace: 'shop' }, spec: { selector: { app: 'cart' }, ports: [{ port: 80 }] } } as Service);
  await page.waitForSelector('#ns option[value=shop]', { state: 'attached' });
  await page.selectOption('#ns', 'shop');
  await page.waitForSelector('[data-id="svc:shop/cart"]');
  t.is(await page.$('[data-id="svc:default/my-backend"]'), null);
  t.regex(page.url(), /\?ns=shop$/);
  await page.selectOption('#ns', '*');
  await page.waitForSelector('[data-id="svc:default/my-backend"]');
  t.truthy(await page.$('[data-id="svc:shop/cart"]'));
  t.regex((await page.textContent('[data-id="svc:shop/cart"] .title'))!, /^shop\/cart$/);
});

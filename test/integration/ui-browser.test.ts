// The live picture in a real browser (slot 30): Debian's headless Chromium, driven by playwright-core,
// against a real server running the seed example on Docker. The page logs in with the token and
// shows ClusterIP my-backend -> 3 Ready Pods; a deleted Pod turns red at once and its replacement
// appears; the kernel's per-endpoint counters rise when requests go to the VIP; HTML in an object's
// fields is shown as text; a wrong token is refused, and `kubelite ui`'s one-time link works once.

import test from 'ava';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Pod, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { cleanupInstance, ROOT, slotConfig, startTestServer, waitFor, waitForServiceRoute, type TestServer } from '../helpers/server.js';
import { launchBrowser, loginWithToken, openApp, type TestBrowser } from '../helpers/browser.js';
import { localGetMany } from '../helpers/netns.js';

const SLOT = 30;
const slot = slotConfig(SLOT);
let server: TestServer | undefined;
let browser: TestBrowser | undefined;
let page: Page;
let base = '';
let token = '';
let vip = '';

function srv(): TestServer {
  if (!server) throw new Error('server not started');
  return server;
}

async function backendPods(): Promise<Pod[]> {
  return (await srv().client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=my-backend' })).items.filter((p) => !p.metadata.deletionTimestamp);
}

/** Names of the Pod cards the page shows in state `state` (any state when omitted). */
function podCards(state?: string): Promise<string[]> {
  return page.$$eval(`.node[data-kind=pod]${state ? `[data-state=${state}]` : ''}`, (els) => els.map((e) => (e as HTMLElement).dataset.name!).sort());
}

test.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the UI browser tests need root (Docker, iptables)');
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'dns,ingress', '--lb-pool', slot.lbPool] });
  await waitForServiceRoute(slot);
  for (const f of ['01-my-backend.yaml', '02-service-clusterip.yaml']) {
    const r = await srv().cli(['apply', '-f', path.join(ROOT, 'examples', f)]);
    if (r.code !== 0) throw new Error(`apply ${f}: ${r.stderr}`);
  }
  vip = (await srv().client.get<Service>(R.services, 'default', 'my-backend')).spec.clusterIP!;
  await waitFor(async () => (await backendPods()).filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 3, 120_000, '3 Ready my-backend Pods');
  base = srv().client.conn.server;
  token = srv().client.conn.token!;
  browser = await launchBrowser();
  page = await browser.newPage();
});

test.after.always(async () => {
  await browser?.close();
  await server?.stop();
  cleanupInstance(server);
});

test.serial('the page loads with the token and shows the seed: ClusterIP my-backend -> 3 Ready Pods', async (t) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && t.log(`console: ${m.text()}`));
  await loginWithToken(page, base, token);
  await page.waitForSelector('.node[data-kind=service][data-name=my-backend]');
  const entry = await page.textContent('[data-id="entry:default/my-backend"]');
  t.true(entry!.includes(`ClusterIP ${vip}:80/TCP`), entry!);
  t.true(entry!.includes('DNS my-backend.default.svc.cluster.local'), entry!);
  const svc = await page.textContent('[data-id="svc:default/my-backend"]');
  t.regex(svc!, /selector app=my-backend/);
  t.regex(svc!, /3\/3 endpoints ready/);
  const names = (await backendPods()).map((p) => p.metadata.name!).sort();
  await page.waitForFunction((n) => document.querySelectorAll('.node[data-kind=pod][data-state=ready]').length === n, 3);
  t.deepEqual(await podCards('ready'), names);
  t.is(await page.$$eval('g.edge[data-from="svc:default/my-backend"][data-state=ready]', (els) => els.length), 3);
  t.deepEqual(errors, []);
});

test.serial('a deleted Pod turns red and leaves the Service within 1 s; its replacement appears', async (t) => {
  const [victim] = await backendPods();
  const name = victim.metadata.name!;
  // Record when the page shows it: a MutationObserver in the page notes the time of the change.
  // (A string, not a function: tsx would wrap a named inner function in a helper the page lacks.)
  await page.evaluate(`(() => {
    const id = ${JSON.stringify(`pod:default/${name}`)};
    delete window.__shownAt;
    new MutationObserver(() => {
      const el = document.querySelector('[data-id="' + id + '"]');
      const edge = document.querySelector('g.edge[data-to="' + id + '"]');
      if ((!el || el.dataset.state === 'terminating') && (!edge || edge.dataset.state !== 'ready') && window.__shownAt === undefined) window.__shownAt = Date.now();
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  })()`);
  await srv().client.delete(R.pods, 'default', name);
  const deleted = Date.now();
  const shownAt = (await page.waitForFunction(() => (window as unknown as { __shownAt?: number }).__shownAt, undefined, { timeout: 5000 }).then((h) => h.jsonValue())) as number;
  t.log(`deletion on the page after ${shownAt - deleted} ms`);
  t.true(shownAt - deleted < 1000, `the page showed the deletion after ${shownAt - deleted} ms`);
  // The replacement: a new Pod name, Ready, behind the Service; the deleted one gone from the page.
  await page.waitForFunction(
    ({ gone }) => {
      const ready = [...document.querySelectorAll('.node[data-kind=pod][data-state=ready]')].map((e) => (e as HTMLElement).dataset.name);
      const edges = document.querySelectorAll('g.edge[data-from="svc:default/my-backend"][data-state=ready]').length;
      return ready.length === 3 && edges === 3 && !ready.includes(gone) && !document.querySelector(`[data-id="pod:default/${gone}"]`);
    },
    { gone: name },
    { timeout: 90_000 },
  );
  const now = (await backendPods()).map((p) => p.metadata.name!).sort();
  t.false(now.includes(name));
  t.deepEqual(await podCards('ready'), now);
  t.is(await page.$$eval('g.edge[data-from="svc:default/my-backend"][data-state=ready]', (els) => els.length), 3);
});

test.serial('the per-endpoint counters rise when requests are sent to the VIP', async (t) => {
  await page.waitForSelector('#counters.ok', { timeout: 10_000 });
  const read = () => page.$$eval('g.edge[data-from="svc:default/my-backend"][data-state=ready]', (els) => Object.fromEntries(els.map((e) => [(e as SVGGElement).dataset.to!, Number((e as SVGGElement).dataset.packets ?? 'NaN')])));
  const before = await read();
  t.is(Object.keys(before).length, 3);
  t.true(Object.values(before).every((n) => Number.isFinite(n)), JSON.stringify(before));
  const answers = await localGetMany(vip, 80, 30, (b) => /pod=(\S+)/.exec(b)?.[1] ?? `bad:${b.slice(0, 40)}`);
  t.is([...answers.values()].reduce((a, b) => a + b, 0), 30);
  t.false([...answers.keys()].some((k) => k.startsWith('bad:') || k.startsWith('error:')), JSON.stringify([...answers]));
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('g.edge[data-from="svc:default/my-backend"][data-state=ready]')].reduce((s, e) => s + Number((e as SVGGElement).dataset.packets), 0) >= want,
    sum(before) + 30,
    { timeout: 10_000 },
  );
  const after = await read();
  t.true(sum(after) >= sum(before) + 30, `${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
  // Each Pod that answered got its own connections, counted on its own edge.
  for (const [pod, n] of answers) t.true(after[`pod:default/${pod}`] - before[`pod:default/${pod}`] >= n, `${pod}: ${n} answers, edge ${before[`pod:default/${pod}`]} -> ${after[`pod:default/${pod}`]}`);
  // The entry edge carries the Service's total.
  const total = Number(await page.getAttribute('g.edge[data-from="entry:default/my-backend"]', 'data-packets'));
  t.is(total, sum(after));
});

test.serial('HTML in names, labels, annotations and Events is shown as text, never run', async (t) => {
  const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
  // Labels cannot carry markup at all: the API refuses it.
  const refused = await srv()
    .client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad-label', namespace: 'default', labels: { app: '<script>' } }, spec: { ports: [{ port: 80 }] } } as Service)
    .then(() => 'created', (err: Error) => err.message);
  t.regex(refused, /Invalid value: "<script>"/);
  await srv().client.create(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'xss', namespace: 'default', labels: { app: 'xss' }, annotations: { note: evil, [`example.com/html`]: '<svg onload="window.__xss=3"></svg>' } },
    spec: { selector: { app: 'my-backend' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  } as Service);
  const [p] = await backendPods();
  await srv().client.create(R.events, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'xss.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: p.metadata.name, namespace: 'default', uid: p.metadata.uid },
    reason: '<b>Evil</b>',
    message: evil,
    type: 'Warning',
    lastTimestamp: new Date().toISOString(),
  } as never);
  await page.waitForSelector('[data-id="svc:default/xss"]');
  await page.click('[data-id="svc:default/xss"]');
  await page.waitForSelector('.detail[data-detail="Service/default/xss"]');
  await page.waitForFunction(() => document.querySelector('#ticker')?.textContent?.includes('onerror'));
  const detail = await page.textContent('.detail');
  t.true(detail!.includes(evil), 'the annotation is shown literally');
  t.true((await page.textContent('#ticker'))!.includes(evil), 'the Event message is shown literally');
  t.is(await page.$$eval('.detail img, .detail svg, #ticker img, #ticker svg, [onerror], [onload]', (els) => els.length), 0);
  await page.waitForTimeout(300);
  t.is(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  await page.keyboard.press('Escape');
});

test.serial('a wrong token is refused (the page says so; the API answers 401); the `kubelite ui` link works once', async (t) => {
  const raw = await srv().client.raw('GET', '/ui/api/stream?namespace=default', undefined, { Authorization: 'Bearer wrong' });
  t.is(raw.status, 401);
  t.like(JSON.parse(raw.body), { kind: 'Status', code: 401, reason: 'Unauthorized' });

  await browser!.context.clearCookies();
  const fresh = await browser!.newPage();
  t.teardown(() => fresh.close());
  await openApp(fresh, `${base}/ui/`);
  await fresh.fill('#token', 'not-the-token');
  await fresh.click('button[type=submit]');
  await fresh.waitForSelector('#login-error');
  t.regex((await fresh.textContent('#login-error'))!, /wrong token/);
  t.is(await fresh.$('#conn'), null, 'no live view without a session');

  const cli = await srv().cli(['ui']);
  t.is(cli.code, 0, cli.stderr);
  const url = cli.stdout.trim();
  t.regex(url, /^https:\/\/127\.0\.0\.1:\d+\/ui\/#code=[A-Za-z0-9_-]{32}$/);
  t.false(url.includes(token), 'the token itself is never in the link');
  await fresh.goto('about:blank');
  await openApp(fresh, url);
  await fresh.waitForSelector('#conn[data-conn=live]', { timeout: 20_000 });
  t.false(fresh.url().includes('code='), 'the code is taken out of the address bar');
  const cookie = (await browser!.context.cookies()).find((c) => c.name === 'kubelite_ui');
  t.like(cookie, { httpOnly: true, secure: true, sameSite: 'Strict', path: '/ui' });
  // The same link a second time (another browser profile state): refused.
  await browser!.context.clearCookies();
  await fresh.goto('about:blank');
  await openApp(fresh, url);
  await fresh.waitForSelector('#login-error');
  t.regex((await fresh.textContent('#login-error'))!, /already used or has expired/);
});

// The UI when things go wrong (slot 31): no session (the API's 401 Status, the page asks for the
// token), a login from another origin, the server going away (the page says "disconnected", comes
// back with back-off, and resynchronises: what changed meanwhile is shown), a container writing one
// huge log line (cut, the lines after it kept; Docker splits a line into 16 KiB records and its tail
// counts those, so the line here stays under 100 of them), a Service explaining a Pod that is not Ready.

import test from 'ava';
import type { Page } from 'playwright-core';
import type { Pod, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { cleanupInstance, slotConfig, startTestServer, waitFor, waitForServiceRoute, type TestServer } from '../helpers/server.js';
import { launchBrowser, loginWithToken, type TestBrowser } from '../helpers/browser.js';
import { dockerClient, execIn } from '../helpers/docker.js';
import { LABELS } from '../../src/agent/labels.js';

const SLOT = 31;
const slot = slotConfig(SLOT);
const API_PORT = 17000 + SLOT;
let server: TestServer | undefined;
let browser: TestBrowser | undefined;
let page: Page;

function srv(): TestServer {
  if (!server) throw new Error('server not started');
  return server;
}

const svc = (name: string, selector: Record<string, string>): Service =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }) as Service;

test.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the UI tests need root (Docker, iptables)');
  // A fixed API port: the page must find the server again at the same address after a restart.
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'dns,ingress', '--lb-pool', slot.lbPool, '--api-port', String(API_PORT)] });
  await waitForServiceRoute(slot);
  browser = await launchBrowser();
  page = await browser.newPage();
});

test.after.always(async () => {
  await browser?.close();
  await server?.stop();
  cleanupInstance(server);
});

test.serial('no session: the UI API answers the API\'s 401 Status; a login from another origin is refused', async (t) => {
  for (const p of ['/ui/api/session', '/ui/api/stream?namespace=default', '/ui/api/events?namespace=default', '/ui/api/namespaces/default/pods/x/log']) {
    const r = await srv().client.raw('GET', p, undefined, { Authorization: '' });
    t.is(r.status, 401, p);
    t.like(JSON.parse(r.body), { kind: 'Status', status: 'Failure', code: 401, reason: 'Unauthorized' });
  }
  const wrongCookie = await srv().client.raw('GET', '/ui/api/session', undefined, { Authorization: '', Cookie: 'kubelite_ui=v1.9999999999.abc.forged' });
  t.is(wrongCookie.status, 401);
  const cross = await srv().client.raw('POST', '/ui/api/login', { token: srv().client.conn.token }, { Authorization: '', Origin: 'https://evil.example' });
  t.is(cross.status, 403);
  t.is(cross.headers['set-cookie'], undefined);
  // The page itself is public and locked down.
  const html = await srv().client.raw('GET', '/ui/', undefined, { Authorization: '' });
  t.is(html.status, 200);
  t.regex(String(html.headers['content-security-policy']), /script-src 'self'/);
  t.is((await srv().client.raw('GET', '/ui/api/nothing')).status, 404);
  t.is((await srv().client.raw('POST', '/ui/api/login-codes', undefined, { Authorization: 'Bearer wrong' })).status, 401);
});

test.serial('the server goes away: "disconnected", back-off, then a resync shows what changed meanwhile', async (t) => {
  await srv().client.create(R.services, svc('stays', { app: 'a' }));
  await srv().client.create(R.services, svc('goes', { app: 'b' }));
  await loginWithToken(page, srv().client.conn.server, srv().client.conn.token!);
  await page.waitForSelector('[data-id="svc:default/goes"]');
  // Keep the page from reconnecting until the changes are made, then let it.
  await page.route('**/ui/api/stream**', (route) => route.abort('connectionrefused'));
  await srv().stop();
  await page.waitForSelector('#conn[data-conn=disconnected]', { timeout: 40_000 });
  t.regex((await page.textContent('#conn'))!, /disconnected — retrying in \d+s/);
  await srv().restart();
  await srv().client.delete(R.services, 'default', 'goes');
  await srv().client.create(R.services, svc('new', { app: 'c' }));
  await page.unroute('**/ui/api/stream**');
  // The session survives the restart (the cookie is signed with a key derived from the token).
  await page.waitForSelector('#conn[data-conn=live]', { timeout: 30_000 });
  await page.waitForSelector('[data-id="svc:default/new"]');
  t.is(await page.$('[data-id="svc:default/goes"]'), null, 'deleted while the page was away: gone after the resync');
  t.truthy(await page.$('[data-id="svc:default/stays"]'));
  t.is(await page.$('#token'), null, 'no new login needed');
});

test.serial('a huge log line is cut; the lines around it are kept', async (t) => {
  await srv().client.create(R.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'loud', namespace: 'default', labels: { app: 'loud' } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'kubelite/echo:1', imagePullPolicy: 'Never', command: ['sh', '-c', 'echo before; head -c 1000000 /dev/zero | tr "\\0" x; echo; echo after; exec sleep 3600'] }],
    },
  } as Pod);
  await waitFor(async () => (await srv().client.get<Pod>(R.pods, 'default', 'loud')).status?.phase === 'Running', 90_000, 'the loud Pod running');
  // Through the UI's API (what the page reads) ...
  const r = await waitFor(async () => {
    const res = await srv().client.raw('GET', '/ui/api/namespaces/default/pods/loud/log?container=main');
    const body = JSON.parse(res.body) as { lines: string[]; cutLines: number };
    return res.status === 200 && body.lines.includes('after') ? body : undefined;
  }, 30_000, 'the log with its last line').then((x) => x!);
  t.is(r.lines[0], 'before');
  t.regex(r.lines[1], /^x{4096} … \[line cut: 995904 more bytes\]$/);
  t.is(r.cutLines, 1);
  // ... and in the page.
  await page.waitForSelector('[data-id="pod:default/loud"]');
  await page.click('[data-id="pod:default/loud"]');
  await page.waitForSelector('.detail pre.log');
  const shown = (await page.textContent('.detail pre.log'))!;
  t.true(shown.includes('line cut: 995904 more bytes'));
  t.true(shown.endsWith('after'));
  t.true(shown.length < 10_000);
});

test.serial('a Service says why a Pod is not in it: labels match, not Ready, and the probe failure', async (t) => {
  await srv().client.create(R.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'sick', namespace: 'default', labels: { app: 'sick' } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'echo',
          image: 'kubelite/echo:1',
          imagePullPolicy: 'Never',
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
        },
      ],
    },
  } as Pod);
  await srv().client.create(R.services, svc('sick', { app: 'sick' }));
  await waitFor(async () => (await srv().client.get<Pod>(R.pods, 'default', 'sick')).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), 90_000, 'sick Ready first');
  // kubelite/echo answers /ready with 503 once /tmp/unready exists.
  const [c] = await dockerClient().listContainers({ filters: { label: [`${LABELS.instance}=${slot.instance}`, `${LABELS.podName}=sick`, `${LABELS.containerName}=echo`] } });
  t.is((await execIn(c.Id, ['touch', '/tmp/unready'])).exitCode, 0);
  await page.waitForSelector('[data-id="svc:default/sick"]');
  await page.click('[data-id="svc:default/sick"]');
  const item = '.detail li[data-pod=sick]';
  await page.waitForFunction((sel) => /Readiness probe failed/.test(document.querySelector(sel)?.textContent ?? ''), item, { timeout: 60_000 });
  const text = (await page.textContent(item))!;
  t.regex(text, /^sick: in — labels match \(app=sick\), not Ready: Readiness probe failed: HTTP probe failed with statuscode: 503$/);
  t.is(await page.getAttribute(item, 'data-member-state'), 'notready');
  t.is(await page.getAttribute('g.edge[data-to="pod:default/sick"]', 'data-state'), 'notready');
});

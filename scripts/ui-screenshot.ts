// Regenerates docs/ui.png, the README's picture of the UI: a real server (instance t32, its own
// address ranges) running every example of examples/ on Docker, some requests through the ClusterIPs
// so the kernel's counters show, the page in headless Chromium with the my-backend Service open.
// Needs root, Docker, HAProxy and chromium. Run: node --import tsx scripts/ui-screenshot.ts [out.png]

import fs from 'node:fs';
import path from 'node:path';
import type { Pod, Service } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { cleanupInstance, ROOT, slotConfig, startTestServer, waitFor, waitForServiceRoute, type TestServer } from '../test/helpers/server.js';
import { launchBrowser, loginWithToken, type TestBrowser } from '../test/helpers/browser.js';
import { localGetMany } from '../test/helpers/netns.js';

const SLOT = 32;
const slot = slotConfig(SLOT);
const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'ui.png'));

let server: TestServer | undefined;
let browser: TestBrowser | undefined;
try {
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'dns', '--lb-pool', slot.lbPool] });
  const s = server;
  await waitForServiceRoute(slot);
  for (const f of fs.readdirSync(path.join(ROOT, 'examples')).filter((x) => x.endsWith('.yaml')).sort()) {
    // The NodePort example asks for 30007; this instance's range is its slot's.
    const text = fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8').replace(/nodePort: 30007/, `nodePort: ${slot.nodePortRange[0] + 7}`);
    const r = await s.cli(['apply', '-f', '-'], text);
    if (r.code !== 0) throw new Error(`apply ${f}: ${r.stderr}`);
  }
  await waitFor(async () => (await s.client.list<Pod>(R.pods, { namespace: 'default' })).items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 5, 120_000, '5 Ready Pods');
  const vip = async (name: string) => (await s.client.get<Service>(R.services, 'default', name)).spec.clusterIP!;
  await localGetMany(await vip('my-backend'), 80, 60);
  await localGetMany(await vip('frontend'), 80, 20);
  browser = await launchBrowser({ viewport: { width: 1620, height: 900 } });
  const page = await browser.newPage();
  await loginWithToken(page, s.client.conn.server, s.client.conn.token!);
  await page.waitForSelector('#counters.ok');
  await localGetMany(await vip('my-backend'), 80, 30);
  await page.waitForTimeout(1500);
  await page.click('[data-id="svc:default/my-backend"]');
  await page.waitForSelector('.detail li[data-member-state=ready]');
  await page.waitForTimeout(500);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
} finally {
  await browser?.close();
  await server?.stop();
  cleanupInstance(server);
}

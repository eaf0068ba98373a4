// The UI's per-endpoint counters follow the proxy's mode: the same choice (--proxy-mode, else the
// nftables probe) picks the nftables or the iptables reader; a disabled proxy has none.

import test from 'ava';
import { defaultConfig, hostNames } from '../../../src/config.js';
import { proxyCounterSource } from '../../../src/main/ui-counters.js';
import { readIptablesEndpointCounters } from '../../../src/netfilter/counters.js';
import { endpointCounterReader } from '../../../src/netfilter/mode.js';
import { readNftEndpointCounters } from '../../../src/netfilter/nft-counters.js';

const names = hostNames({ instance: 'unit1' });
const nftOk = async () => ({ ok: true, version: 'nftables v1.0.6' });
const nftMissing = async () => ({ ok: false, reason: 'nft is not installed (ENOENT)' });

test('each mode reads its own rules', (t) => {
  t.is(endpointCounterReader('nftables'), readNftEndpointCounters);
  t.is(endpointCounterReader('iptables'), readIptablesEndpointCounters);
});

test('default mode with nft working: the nftables counters', async (t) => {
  const s = await proxyCounterSource({ config: defaultConfig(), names }, nftOk);
  t.is(typeof s, 'function');
  t.is((s as { mode: string }).mode, 'nftables');
});

test('default mode without nft: the iptables counters, as the proxy falls back', async (t) => {
  const s = await proxyCounterSource({ config: defaultConfig(), names }, nftMissing);
  t.is((s as { mode: string }).mode, 'iptables');
});

test('--proxy-mode iptables: the iptables counters, without probing', async (t) => {
  let probed = false;
  const s = await proxyCounterSource({ config: defaultConfig({ proxyMode: 'iptables' }), names }, async () => {
    probed = true;
    return { ok: true };
  });
  t.is((s as { mode: string }).mode, 'iptables');
  t.false(probed);
});

test('--disable proxy: no counters, and the reason', async (t) => {
  const s = await proxyCounterSource({ config: defaultConfig({ disabled: new Set(['proxy']) }), names }, nftOk);
  t.deepEqual(s, { off: 'the proxy is disabled (--disable proxy): no rules, so no counters' });
});

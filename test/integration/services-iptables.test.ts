// The Services suite (services-suite.ts) with --proxy-mode iptables, on slot 21, so CI runs it in both
// modes (services.test.ts runs the default, nftables).

import { servicesSuite } from './services-suite.js';

servicesSuite({ slot: 21, mode: 'iptables', explicitMode: true });

// The Services suite (services-suite.ts) in the default proxy mode, which on these hosts is nftables
// (`nft` installed and accepted by the kernel): slot 4. KUBELITE_TEST_PROXY_MODE=iptables runs it in the
// other mode; services-iptables.test.ts does that on its own slot, so CI always covers both.

import { testProxyMode } from '../helpers/dataplane.js';
import { servicesSuite } from './services-suite.js';

const mode = testProxyMode('nftables');
servicesSuite({ slot: 4, mode, explicitMode: mode !== 'nftables' });

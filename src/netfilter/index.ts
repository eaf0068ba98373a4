// The Service data plane: what other parts of kubelite import.

export { Proxier, hostTools, type ProxierOptions, type ProxierLogger, type SyncResult, type NetfilterHost } from './proxier.js';
export { cleanupNetfilter, type CleanupResult } from './cleanup.js';
export { buildProxyModel, type ProxyService, type ProxyEndpoint, type ModelOptions, type ModelProblem } from './model.js';
export { renderRules, jumpRules, type RenderedRules, type RenderConfig } from './render.js';
export { chainNames, type ChainNames } from './names.js';
export { type ProxyMode, PROXY_MODES } from './plane.js';
export { chooseProxyMode, endpointCounterReader, type ModeChoice } from './mode.js';
export { readNftEndpointCounters, type EndpointCounter as NftEndpointCounter } from './nft-counters.js';
export { nftTableName } from './nft-names.js';

// Public surface of the cluster DNS.
export { ClusterDNSIndex, type AnswerConfig, type DNSAnswer, type DNSQuestion, type RR, type Rcode } from './records.js';
export { DNSServer, type DNSServerOptions, type DNSServerStats, type DNSLogger } from './server.js';
export { Forwarder, parseUpstream, readResolvConf, type ForwarderOptions, type ForwardResult } from './forward.js';
export { podResolvConf, podDNSConfig, parseResolvConf, renderResolvConf, type ResolvConf, type PodResolvConfig } from './resolv.js';
export { kubeDnsService, kubeDnsEndpoints, KUBE_DNS_NAME, KUBE_DNS_NAMESPACE } from './publish.js';
export { attachIndex, type InformerLike } from './sync.js';
export { DNSComponent, createDns, type DNSComponentOptions } from './component.js';
export { chooseListenAddress, isLocalAddress, upstreamsFor } from './listen.js';
export { planService, planEndpoints, type PublishStep } from './publish-plan.js';
export { CLUSTER_DOMAIN_ANNOTATION, DNS_LISTEN_ANNOTATION } from './publish.js';

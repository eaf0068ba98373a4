// The ingress controller's public surface, for the server wiring and the CLI.

export { buildRouteTable, match, isOurs, type BuildInput, type BuildResult, type MatchResult, type ResolvedBackend, type RouteTable } from './routes.js';
export { buildCertStore, generateCA, generateDefaultCert, generateDefaultCertIsolated, generateSelfSigned, DEFAULT_CERT_COMMON_NAME, type CertStore, type PemPair, type SelfSignedOptions } from './certs.js';
export { validateKeyPair, validateTLSSecret } from './tls-secret.js';
export { IngressProxy, type IngressProxyOptions, type ProxyStats } from './proxy.js';
export {
  IngressControllerCore,
  ingressClassObject,
  hostAddress,
  INGRESS_CLASS_NAME,
  INGRESS_CONTROLLER_NAME,
  DEFAULT_CLASS_ANNOTATION,
  type ControllerCoreOptions,
  type ProblemKind,
} from './controller-core.js';
export { consoleLogger, type Logger } from './haproxy-process.js';
export { IngressComponent, createIngress, type IngressComponentOptions } from './component.js';
export { describeIngress, formatEndpoints, tabwrite, type BackendLookup } from './describe.js';
export { loadOrCreateDefaultCert } from './default-cert.js';
export { checkHAProxy, explainStartFailure, ingressRunDir, IngressSetupError } from './preflight.js';
export { orphanProxyPid, stopOrphanProxy } from './cleanup.js';
export { defaultIngressClass, defaultIngressClassName, ingressChangeMatters, planStatusWrites, problemReason, type StatusWrite } from './status.js';

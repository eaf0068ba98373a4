// Service, Endpoints and EndpointSlice rules. kubelite is single-stack IPv4 and proxies TCP and UDP
// only, so those are what a Service may ask for; the NodePort range is the allocator's business.

import { isDNS1123Label, isDNS1123Subdomain, isValidCIDR, isValidIP, isValidIPv4, isValidPortName } from '../names.js';
import {
  type Causes,
  child,
  duplicate,
  each,
  forbidden,
  index,
  invalid,
  isObj,
  listAt,
  notSupported,
  numAt,
  objAt,
  portNum,
  required,
  strAt,
  strMapAt,
} from './field.js';
import { validateLabels } from './meta.js';
import { isIPv4, isIPv6 } from '../../util/ip.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SERVICE_PROTOCOLS = ['TCP', 'UDP'];
const ALL_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_CLIENT_IP_TIMEOUT = 86400;

/** Kubernetes refuses endpoint addresses that can never be a pod: unspecified, loopback, link-local. */
export function nonSpecialIP(path: string, ip: string): Causes {
  if (ip === '0.0.0.0' || ip === '::') return [invalid(path, ip, 'may not be unspecified (0.0.0.0)')];
  if (ip.startsWith('127.') || ip === '::1') return [invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  if (ip.startsWith('169.254.') || /^fe[89ab]/i.test(ip)) return [invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if (ip.startsWith('224.0.0.') || /^ff02:/i.test(ip)) return [invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  return [];
}

function validateServicePorts(spec: Record<string, unknown>, type: string): Causes {
  const out: Causes = [];
  const ports = listAt(spec.ports);
  const names = new Set<string>();
  const portKeys = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const path = index('spec.ports', i);
    const name = strAt(p.name);
    if (!name) {
      if (ports.length > 1) out.push(required(child(path, 'name')));
    } else {
      out.push(...each(child(path, 'name'), name, isDNS1123Label(name)));
      if (names.has(name)) out.push(duplicate(child(path, 'name'), name));
      names.add(name);
    }
    const port = numAt(p.port) ?? 0;
    out.push(...portNum(child(path, 'port'), port));
    const proto = strAt(p.protocol);
    if (!proto) out.push(required(child(path, 'protocol')));
    else if (!SERVICE_PROTOCOLS.includes(proto)) out.push(notSupported(child(path, 'protocol'), proto, SERVICE_PROTOCOLS));
    const k = `${port}/${proto}`;
    if (portKeys.has(k)) out.push(duplicate(path, { port, protocol: proto }));
    portKeys.add(k);

    const tp = p.targetPort;
    if (typeof tp === 'number') out.push(...portNum(child(path, 'targetPort'), tp));
    else if (typeof tp === 'string') out.push(...each(child(path, 'targetPort'), tp, isValidPortName(tp)));

    const np = numAt(p.nodePort) ?? 0;
    if (np !== 0) {
      if (type === 'ClusterIP') out.push(forbidden(child(path, 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
      else if (type === 'ExternalName') out.push(forbidden(child(path, 'nodePort'), "may not be used when `type` is 'ExternalName'"));
      else {
        out.push(...portNum(child(path, 'nodePort'), np));
        const nk = `${np}/${proto}`;
        if (nodePorts.has(nk)) out.push(duplicate(child(path, 'nodePort'), np));
        nodePorts.add(nk);
      }
    }
  });
  return out;
}

export function validateServiceSpec(specIn: unknown): Causes {
  const spec = objAt(specIn);
  const out: Causes = [];
  const type = strAt(spec.type) || 'ClusterIP';
  if (!SERVICE_TYPES.includes(type)) out.push(notSupported('spec.type', spec.type, SERVICE_TYPES));

  const clusterIP = strAt(spec.clusterIP);
  const headless = clusterIP === 'None';
  if (clusterIP && !headless && !isIPv4(clusterIP)) {
    out.push(invalid('spec.clusterIP', clusterIP, isIPv6(clusterIP) ? 'must be a valid IPv4 address: this cluster is single-stack IPv4' : "must be empty, 'None', or a valid IP address"));
  }
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) out.push(invalid('spec.clusterIP', clusterIP, `may not be set to 'None' for ${type} services`));
  const clusterIPs = listAt<unknown>(spec.clusterIPs);
  if (clusterIPs.length > 1) out.push(invalid('spec.clusterIPs', clusterIPs, 'may hold at most one IP: this cluster is single-stack IPv4'));
  if (clusterIPs.length > 0 && clusterIP && clusterIPs[0] !== clusterIP) out.push(invalid('spec.clusterIPs[0]', clusterIPs[0], 'must match `clusterIP` when both are specified'));

  if (type === 'ExternalName') {
    if (clusterIP && !headless) out.push(forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    const en = strAt(spec.externalName);
    if (!en) out.push(required('spec.externalName'));
    else {
      // A trailing dot marks the name fully qualified; the rest must be a DNS-1123 subdomain.
      const bare = en.endsWith('.') ? en.slice(0, -1) : en;
      out.push(...each('spec.externalName', en, isDNS1123Subdomain(bare)));
    }
  } else {
    if (listAt(spec.ports).length === 0 && !headless) out.push(required('spec.ports'));
  }
  out.push(...validateServicePorts(spec, type));
  out.push(...validateLabels(spec.selector, 'spec.selector'));

  const affinity = strAt(spec.sessionAffinity) || 'None';
  if (!['ClientIP', 'None'].includes(affinity)) out.push(notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  if (affinity === 'ClientIP') {
    const t = numAt(objAt(objAt(spec.sessionAffinityConfig).clientIP).timeoutSeconds);
    if (t !== undefined && (t <= 0 || t > MAX_CLIENT_IP_TIMEOUT)) {
      out.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT}`));
    }
  } else if (isObj(spec.sessionAffinityConfig) && Object.keys(spec.sessionAffinityConfig).length > 0) {
    out.push(invalid('spec.sessionAffinityConfig', spec.sessionAffinityConfig, 'must not be set when `sessionAffinity` is None'));
  }

  const external = type === 'NodePort' || type === 'LoadBalancer';
  if (spec.externalTrafficPolicy !== undefined && !external) {
    out.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  }
  if (numAt(spec.healthCheckNodePort) && !(type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local')) {
    out.push(invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, 'may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''));
  }
  listAt<unknown>(spec.externalIPs).forEach((ip, i) => {
    if (typeof ip !== 'string') return;
    const p = index('spec.externalIPs', i);
    const errs = isValidIP(ip);
    out.push(...each(p, ip, errs));
    if (errs.length === 0) out.push(...nonSpecialIP(p, ip));
  });
  const ranges = listAt<unknown>(spec.loadBalancerSourceRanges);
  if (ranges.length > 0 && type !== 'LoadBalancer') out.push(forbidden('spec.loadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
  ranges.forEach((r, i) => {
    if (typeof r === 'string') out.push(...each(index('spec.loadBalancerSourceRanges', i), r, isValidCIDR(r.trim())));
  });
  const lbIP = strAt(spec.loadBalancerIP);
  if (lbIP) out.push(...each('spec.loadBalancerIP', lbIP, isValidIP(lbIP)));

  const families = listAt<unknown>(spec.ipFamilies);
  families.forEach((f, i) => {
    if (f !== 'IPv4') out.push(notSupported(index('spec.ipFamilies', i), f, ['IPv4']));
  });
  if (spec.ipFamilyPolicy === 'RequireDualStack') out.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
  return out;
}

// ---------- Endpoints ----------

function validateEndpointPorts(ports: unknown, path: string, protocols: string[]): Causes {
  const out: Causes = [];
  const list = listAt(ports);
  const names = new Set<string>();
  list.forEach((p, i) => {
    const pp = index(path, i);
    const name = strAt(p.name);
    if (!name) {
      if (list.length > 1) out.push(required(child(pp, 'name')));
    } else {
      out.push(...each(child(pp, 'name'), name, isDNS1123Label(name)));
      if (names.has(name)) out.push(duplicate(child(pp, 'name'), name));
      names.add(name);
    }
    if (p.port !== undefined) out.push(...portNum(child(pp, 'port'), numAt(p.port) ?? 0));
    const proto = strAt(p.protocol);
    if (proto && !protocols.includes(proto)) out.push(notSupported(child(pp, 'protocol'), proto, protocols));
  });
  return out;
}

export function validateEndpoints(obj: Record<string, unknown>): Causes {
  const out: Causes = [];
  listAt(obj.subsets).forEach((s, i) => {
    const sp = index('subsets', i);
    for (const part of ['addresses', 'notReadyAddresses'] as const) {
      listAt(s[part]).forEach((a, j) => {
        const ap = index(child(sp, part), j);
        const ip = strAt(a.ip);
        const errs = isValidIP(ip);
        out.push(...each(child(ap, 'ip'), ip, errs));
        if (errs.length === 0) out.push(...nonSpecialIP(child(ap, 'ip'), ip));
        const hn = strAt(a.hostname);
        if (hn) out.push(...each(child(ap, 'hostname'), hn, isDNS1123Label(hn)));
        const nn = strAt(a.nodeName);
        if (nn) out.push(...each(child(ap, 'nodeName'), nn, isDNS1123Subdomain(nn)));
      });
    }
    const ports = listAt(s.ports);
    ports.forEach((p, j) => {
      if (p.port === undefined) out.push(required(child(index(child(sp, 'ports'), j), 'port')));
    });
    out.push(...validateEndpointPorts(ports, child(sp, 'ports'), ALL_PROTOCOLS));
  });
  return out;
}

// ---------- EndpointSlice ----------

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;

export function validateEndpointSlice(obj: Record<string, unknown>): Causes {
  const out: Causes = [];
  const addressType = strAt(obj.addressType);
  if (!addressType) out.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) out.push(notSupported('addressType', addressType, ADDRESS_TYPES));
  const endpoints = listAt(obj.endpoints);
  if (endpoints.length > MAX_ENDPOINTS) out.push(invalid('endpoints', endpoints.length, `must have at most ${MAX_ENDPOINTS} items`));
  endpoints.forEach((e, i) => {
    const ep = index('endpoints', i);
    const addrs = listAt<unknown>(e.addresses);
    if (addrs.length === 0) out.push(required(child(ep, 'addresses'), 'must contain at least 1 address'));
    else if (addrs.length > MAX_ADDRESSES) out.push(invalid(child(ep, 'addresses'), addrs.length, `must have at most ${MAX_ADDRESSES} items`));
    addrs.forEach((a, j) => {
      if (typeof a !== 'string') return;
      const ap = index(child(ep, 'addresses'), j);
      if (addressType === 'IPv4') {
        const errs = isValidIPv4(a);
        out.push(...each(ap, a, errs));
        if (errs.length === 0) out.push(...nonSpecialIP(ap, a));
      } else if (addressType === 'IPv6') {
        if (!isIPv6(a)) out.push(invalid(ap, a, 'must be a valid IPv6 address'));
      } else if (addressType === 'FQDN') {
        out.push(...each(ap, a, isDNS1123Subdomain(a)));
      }
    });
    const hn = strAt(e.hostname);
    if (hn) out.push(...each(child(ep, 'hostname'), hn, isDNS1123Label(hn)));
    const nn = strAt(e.nodeName);
    if (nn) out.push(...each(child(ep, 'nodeName'), nn, isDNS1123Subdomain(nn)));
    if (isObj(e.deprecatedTopology)) out.push(...validateLabels(strMapAt(e.deprecatedTopology), child(ep, 'deprecatedTopology')));
  });
  out.push(...validateEndpointPorts(obj.ports, 'ports', ALL_PROTOCOLS));
  return out;
}

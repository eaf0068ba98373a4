// Ingress and IngressClass rules (pkg/apis/networking/validation).

import { isDNS1035Label, isDNS1123Subdomain, isDomainPrefixedPath, isValidPortName, isWildcardDNS1123Subdomain } from '../names.js';
import { type Causes, child, each, index, invalid, isObj, listAt, notSupported, type Obj, objAt, portNum, required, strAt, tooLong } from './field.js';
import { isIPv4, isIPv6 } from '../../util/ip.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const MAX_CONTROLLER_LENGTH = 250;

/**
 * The characters an Ingress path may hold: a URL path's (RFC 3986 pchar and '/') without ';', and
 * without anything a proxy's configuration could read as syntax — whitespace and control characters
 * end a map entry or start a new runtime-API command, `#` a comment, quotes and `\` quote or escape,
 * `<` `>` start a payload. ingress-nginx shipped CVEs for paths like these reaching its config.
 */
export const INGRESS_PATH_CHARS = "A-Za-z0-9-._~!$&()*+,=:@%/|^[]{}?";
export const INGRESS_PATH_RE = /^\/[A-Za-z0-9\-._~!$&()*+,=:@%/|^[\]{}?]*$/;
const PATH_CHARS_MESSAGE = `must contain only the characters ${INGRESS_PATH_CHARS} (no whitespace, control characters, quotes or ;#\\<>)`;

/** A rule or TLS host: a DNS-1123 subdomain or `*.` wildcard, never an IP. */
function validateHost(path: string, host: string): Causes {
  if (isIPv4(host) || isIPv6(host)) return [invalid(path, host, 'must be a DNS name, not an IP address')];
  if (host.includes('*')) return each(path, host, isWildcardDNS1123Subdomain(host));
  return each(path, host, isDNS1123Subdomain(host));
}

function validateBackend(b: Obj, path: string): Causes {
  const out: Causes = [];
  const hasService = isObj(b.service);
  const hasResource = isObj(b.resource);
  if (hasService && hasResource) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (!hasService && !hasResource) return [invalid(path, '', 'resource or service backend is required')];
  if (hasService) {
    const svc = b.service as Obj;
    const sp = child(path, 'service');
    const name = strAt(svc.name);
    if (!name) out.push(required(child(sp, 'name')));
    else out.push(...each(child(sp, 'name'), name, isDNS1035Label(name)));
    const port = objAt(svc.port);
    const hasName = strAt(port.name) !== '';
    const hasNumber = typeof port.number === 'number' && port.number !== 0;
    if (hasName && hasNumber) out.push(invalid(child(sp, 'port'), port, 'cannot set both port name & port number'));
    else if (hasName) out.push(...each(child(sp, 'port', 'name'), port.name, isValidPortName(strAt(port.name))));
    else if (hasNumber) out.push(...portNum(child(sp, 'port', 'number'), port.number as number));
    else out.push(required(child(sp, 'port'), 'port name or number is required'));
  } else {
    const r = b.resource as Obj;
    const rp = child(path, 'resource');
    if (!strAt(r.kind)) out.push(required(child(rp, 'kind')));
    if (!strAt(r.name)) out.push(required(child(rp, 'name')));
    const group = strAt(r.apiGroup);
    if (group) out.push(...each(child(rp, 'apiGroup'), group, isDNS1123Subdomain(group)));
  }
  return out;
}

function validatePath(p: Obj, path: string): Causes {
  const out: Causes = [];
  const pathType = strAt(p.pathType);
  const value = strAt(p.path);
  if (!pathType) out.push(required(child(path, 'pathType'), 'pathType must be specified'));
  else if (!PATH_TYPES.includes(pathType)) out.push(notSupported(child(path, 'pathType'), pathType, PATH_TYPES));
  if (value && !value.startsWith('/')) out.push(invalid(child(path, 'path'), value, 'must be an absolute path'));
  // kubelite serves ImplementationSpecific as Prefix, so every path type gets the character rule.
  if (value.startsWith('/') && !INGRESS_PATH_RE.test(value)) out.push(invalid(child(path, 'path'), value, PATH_CHARS_MESSAGE));
  if (value.startsWith('/') && (pathType === 'Exact' || pathType === 'Prefix')) {
    for (const seq of INVALID_PATH_SEQUENCES) {
      if (value.includes(seq)) {
        out.push(invalid(child(path, 'path'), value, `must not contain '${seq}'`));
        break;
      }
    }
    for (const suf of INVALID_PATH_SUFFIXES) {
      if (value.endsWith(suf)) {
        out.push(invalid(child(path, 'path'), value, `cannot end with '${suf}'`));
        break;
      }
    }
  }
  out.push(...validateBackend(objAt(p.backend), child(path, 'backend')));
  return out;
}

export function validateIngress(obj: Record<string, unknown>): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  const rules = listAt(spec.rules);
  if (!isObj(spec.defaultBackend) && rules.length === 0) {
    out.push(invalid('spec', spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (isObj(spec.defaultBackend)) out.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  const cls = strAt(spec.ingressClassName);
  if (cls) out.push(...each('spec.ingressClassName', cls, isDNS1123Subdomain(cls)));
  rules.forEach((r, i) => {
    const rp = index('spec.rules', i);
    const host = strAt(r.host);
    if (host) out.push(...validateHost(child(rp, 'host'), host));
    if (isObj(r.http)) {
      const paths = listAt(r.http.paths);
      if (paths.length === 0) out.push(required(child(rp, 'http', 'paths')));
      paths.forEach((p, j) => out.push(...validatePath(p, index(child(rp, 'http', 'paths'), j))));
    }
  });
  listAt(spec.tls).forEach((t, i) => {
    const tp = index('spec.tls', i);
    listAt<unknown>(t.hosts).forEach((h, j) => {
      if (typeof h === 'string') out.push(...validateHost(index(child(tp, 'hosts'), j), h));
    });
    const secret = strAt(t.secretName);
    if (secret) out.push(...each(child(tp, 'secretName'), secret, isDNS1123Subdomain(secret)));
  });
  return out;
}

export function validateIngressClass(obj: Record<string, unknown>): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  const controller = strAt(spec.controller);
  if (!controller) out.push(required('spec.controller'));
  else {
    if (controller.length > MAX_CONTROLLER_LENGTH) out.push(tooLong('spec.controller', MAX_CONTROLLER_LENGTH));
    out.push(...each('spec.controller', controller, isDomainPrefixedPath(controller)));
  }
  if (isObj(spec.parameters)) {
    const p = spec.parameters;
    const scope = strAt(p.scope);
    if (scope && scope !== 'Cluster' && scope !== 'Namespace') {
      out.push(notSupported('spec.parameters.scope', scope, ['Cluster', 'Namespace']));
    }
    if (scope === 'Namespace' && !strAt(p.namespace)) out.push(required('spec.parameters.namespace', '`parameters.scope` is set to "Namespace"'));
  }
  return out;
}

// ConfigMap and Secret rules. Secret values are never echoed back in errors.

import { isConfigMapKey } from '../names.js';
import { type Causes, each, invalid, key, objAt, required, strAt, tooLong } from './field.js';

export const MAX_CONFIG_SIZE = 1024 * 1024;

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (Go's encoding/base64.StdEncoding, as Kubernetes decodes Secret data). */
export function isBase64(s: string): boolean {
  return BASE64_RE.test(s);
}

function base64Length(s: string): number {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

export function validateConfigMap(obj: Record<string, unknown>): Causes {
  const out: Causes = [];
  const data = objAt(obj.data);
  const binary = objAt(obj.binaryData);
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    out.push(...each(key('data', k), k, isConfigMapKey(k)));
    size += Buffer.byteLength(strAt(v));
  }
  for (const [k, v] of Object.entries(binary)) {
    out.push(...each(key('binaryData', k), k, isConfigMapKey(k)));
    if (k in data) out.push(invalid(key('binaryData', k), k, 'duplicate of key present in data'));
    const s = strAt(v);
    if (!isBase64(s)) out.push(invalid(key('binaryData', k), '<value omitted>', 'must be a valid base64 string'));
    else size += base64Length(s);
  }
  if (size > MAX_CONFIG_SIZE) out.push(tooLong('', MAX_CONFIG_SIZE));
  return out;
}

/** Keys each well-known Secret type must carry. */
const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

export function validateSecret(obj: Record<string, unknown>): Causes {
  const out: Causes = [];
  const data = objAt(obj.data);
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    out.push(...each(key('data', k), k, isConfigMapKey(k)));
    const s = strAt(v);
    if (!isBase64(s)) out.push(invalid(key('data', k), '<secret data>', 'must be a valid base64 string'));
    else size += base64Length(s);
  }
  // stringData is normally merged by defaulting; validate it anyway for callers that skip it.
  for (const [k, v] of Object.entries(objAt(obj.stringData))) {
    out.push(...each(key('stringData', k), k, isConfigMapKey(k)));
    size += Buffer.byteLength(strAt(v));
  }
  if (size > MAX_CONFIG_SIZE) out.push(tooLong('data', MAX_CONFIG_SIZE));

  const type = strAt(obj.type);
  for (const k of REQUIRED_KEYS[type] ?? []) {
    if (!(k in data)) out.push(required(key('data', k)));
  }
  if (type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data)) {
    out.push(required(key('data', 'username')));
    out.push(required(key('data', 'password')));
  }
  if (type === 'kubernetes.io/service-account-token') {
    const ann = objAt(objAt(obj.metadata).annotations);
    if (!strAt(ann['kubernetes.io/service-account.name'])) out.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  }
  if (type === 'kubernetes.io/dockerconfigjson' && typeof data['.dockerconfigjson'] === 'string' && isBase64(data['.dockerconfigjson'])) {
    try {
      JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8'));
    } catch (e) {
      out.push(invalid(key('data', '.dockerconfigjson'), '<secret contents redacted>', (e as Error).message));
    }
  }
  return out;
}

// Names inside kubelite's own nftables table. Every identifier and comment that reaches `nft -f` is
// built here, so this is the one place that guarantees they parse as what they are: identifiers of
// [A-Za-z0-9_./-] starting with a letter (nft's scanner), comments without quotes, both bounded.

import { createHash } from 'node:crypto';
import type { HostNames } from '../config.js';
import { base32 } from './names.js';

export const NFT_FAMILY = 'ip';
/** nft refuses longer comments ("128 characters maximum allowed"). */
const MAX_COMMENT_LEN = 128;
/** The kernel takes 256 bytes for chain and set names; leave room like kube-proxy does. */
const MAX_NAME_LEN = 240;
const HASH_LEN = 8;
const IDENT = /^[A-Za-z][A-Za-z0-9_./-]*$/;

/** The fixed objects of the table (same names in every instance: the table itself is per instance). */
export const NFT = {
  markMasq: 'mark-for-masquerade',
  masquerading: 'masquerading',
  services: 'services',
  serviceEndpointsCheck: 'service-endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  reject: 'reject-chain',
  rejectExternal: 'reject-external',
  natPrerouting: 'nat-prerouting',
  natOutput: 'nat-output',
  natPostrouting: 'nat-postrouting',
  filterInput: 'filter-input',
  filterForward: 'filter-forward',
  filterOutput: 'filter-output',
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  hairpin: 'hairpin',
} as const;

export type NftMapName = typeof NFT.serviceIPs | typeof NFT.serviceNodePorts | typeof NFT.noEndpointServices | typeof NFT.noEndpointNodePorts;
export const NFT_MAPS: readonly NftMapName[] = [NFT.serviceIPs, NFT.serviceNodePorts, NFT.noEndpointServices, NFT.noEndpointNodePorts];

export type ServiceChainKind = 'svc' | 'ext' | 'local';

export interface NftNames {
  /** `kubelite` for the default instance, `kubelite-<instance>` otherwise. */
  table: string;
  /** `svc-<HASH>-ns/name/proto/port`: the endpoint choice; `ext-`: external destinations; `local-`: local endpoints only. */
  serviceChain(kind: ServiceChainKind, key: string, protocol: string): string;
  /** `aff-<HASH>-ns/name/proto/port__ip/port`: the ClientIP affinity set of one endpoint. */
  affinitySet(key: string, protocol: string, endpoint: string, timeoutSeconds: number): string;
  /** Chains made per service port (the rest of the table is fixed). */
  isServiceChain(name: string): boolean;
  isAffinitySet(name: string): boolean;
}

function hash(input: string): string {
  return base32(createHash('sha256').update(input).digest()).slice(0, HASH_LEN);
}

/** One part of a readable name: anything nft would not take in an identifier becomes `_`. */
function part(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** `ns/name:port` -> `ns/name/proto/port` with each part made safe; the hash keeps sanitised names distinct. */
function readable(key: string, protocol: string): string {
  const slash = key.indexOf('/');
  const colon = key.lastIndexOf(':');
  const ns = key.slice(0, slash);
  const name = key.slice(slash + 1, colon);
  const port = key.slice(colon + 1);
  return `${part(ns)}/${part(name)}/${protocol.toLowerCase()}/${part(port)}`;
}

/** Throws unless `name` is an identifier nft parses as one name. */
export function checkIdentifier(name: string): string {
  if (name.length > MAX_NAME_LEN + 16 || !IDENT.test(name)) throw new Error(`unsafe nftables name ${JSON.stringify(name)}`);
  return name;
}

function bounded(prefix: string, h: string, rest: string): string {
  const name = `${prefix}-${h}-${rest}`;
  return checkIdentifier(name.length > MAX_NAME_LEN ? `${name.slice(0, MAX_NAME_LEN - 3)}...` : name);
}

export function nftTableName(names: Pick<HostNames, 'instanceValue'>): string {
  return checkIdentifier(names.instanceValue === 'default' ? 'kubelite' : `kubelite-${names.instanceValue}`);
}

const SERVICE_CHAIN_RE = new RegExp(`^(svc|ext|local)-[A-Z2-7]{${HASH_LEN}}-`);
const AFFINITY_RE = new RegExp(`^aff-[A-Z2-7]{${HASH_LEN}}-`);

/** The kind of a per-service-port chain, from its name; undefined for the fixed chains. */
export function serviceChainKind(name: string): ServiceChainKind | undefined {
  return SERVICE_CHAIN_RE.exec(name)?.[1] as ServiceChainKind | undefined;
}

export function nftNames(names: Pick<HostNames, 'instanceValue'>): NftNames {
  const table = nftTableName(names);
  return {
    table,
    serviceChain: (kind, key, protocol) => {
      const r = readable(key, protocol);
      return bounded(kind, hash(`${key}/${protocol}`), r);
    },
    affinitySet: (key, protocol, endpoint, timeoutSeconds) => {
      const [ip, port] = endpoint.split(':');
      return bounded('aff', hash(`${key}/${protocol}/${endpoint}/${timeoutSeconds}`), `${readable(key, protocol)}__${part(ip)}/${part(port ?? '')}`);
    },
    isServiceChain: (name) => SERVICE_CHAIN_RE.test(name),
    isAffinitySet: (name) => AFFINITY_RE.test(name),
  };
}

/** `comment "<text>"` with the text reduced to characters that need no escaping, within nft's limit. */
export function nftComment(text: string): string {
  return `comment "${nftCommentText(text)}"`;
}

/** Keeps what `sanitizeName` keeps plus spaces and `>` (for "a -> b"); nothing that could end the string. */
export function nftCommentText(text: string): string {
  const t = text.replace(/[^A-Za-z0-9_.:/ >-]/g, '_');
  return t.length > MAX_COMMENT_LEN ? t.slice(0, MAX_COMMENT_LEN) : t;
}

/** A mark value the way `nft list` prints it back (0x00004000). */
export function nftHex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

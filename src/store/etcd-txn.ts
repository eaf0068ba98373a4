// Store writes as etcd transactions, the way kube-apiserver's etcd3 store writes them: a create
// compares create_revision == 0, a conditional update/delete compares mod_revision with the expected
// resourceVersion, an unconditional one only that the key exists; the success branch writes the
// object(s) plus P/meta/rev, the failure branch reads every key so one round trip tells which op failed
// and why. Pure: builds requests and reads responses, never talks to etcd.

import type { ICompare, IKeyValue, IRequestOp, ITxnRequest, ITxnResponse } from 'etcd3';
import type { KObject } from '../api/types.js';
import { errors, type StatusError } from '../api/errors.js';
import type { BatchOp } from './types.js';
import type { EtcdKeys } from './etcd-config.js';
import { keyName, keyNamespace, objectCoordinates, parseResourceVersion, resourceKey } from './keys.js';

/** What a txn failure branch (or a verifying read) saw at one key: undefined when the key is absent. */
export type SeenKV = Pick<IKeyValue, 'mod_revision' | 'create_revision' | 'value'> | undefined;

export interface PlannedWrite {
  op: BatchOp;
  key: string;
  /** The JSON written (create/update), without metadata.resourceVersion. */
  value?: string;
  /** The revision the op requires the key to be at (conditional update/delete). */
  expectedMod?: number;
}

export interface TxnPlan {
  writes: PlannedWrite[];
  request: ITxnRequest;
}

/** JSON as stored in etcd: the object without metadata.resourceVersion (the key's mod_revision is that). */
export function storedJson(obj: KObject): string {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  try {
    return JSON.stringify({ ...obj, metadata: meta });
  } catch (e) {
    throw errors.badRequest(`object cannot be stored as JSON: ${(e as Error).message}`);
  }
}

/** An object read from etcd, with its resourceVersion restored from the revision. */
export function decodeObject(json: string, rv: number | string): KObject {
  const obj = JSON.parse(json) as KObject;
  obj.metadata = obj.metadata ?? {};
  obj.metadata.resourceVersion = String(rv);
  return obj;
}

function keyOf(keys: EtcdKeys, op: BatchOp): string {
  const res = op.resource;
  if (op.op === 'delete') return keys.object(resourceKey(res), keyNamespace(res, op.namespace), keyName(res, op.name));
  const { namespace, name } = objectCoordinates(res, op.object);
  return keys.object(resourceKey(res), namespace, name);
}

/**
 * The transaction for `ops`. `known` holds keys read beforehand (for uid preconditions, which etcd
 * cannot compare): such ops compare mod_revision with what was read, so a concurrent write fails the txn
 * and the caller reads again. Throws a StatusError for input that can never succeed.
 */
export function planTxn(keys: EtcdKeys, ops: BatchOp[], known: Map<string, SeenKV> = new Map()): TxnPlan {
  const writes: PlannedWrite[] = [];
  const compare: ICompare[] = [];
  const success: IRequestOp[] = [];
  const failure: IRequestOp[] = [];
  const seen = new Set<string>();
  for (const op of ops) {
    const key = keyOf(keys, op);
    if (seen.has(key)) throw errors.badRequest(`one batch may not write ${key.slice(keys.root.length)} twice (the etcd store applies a batch as one transaction)`);
    seen.add(key);
    const kb = Buffer.from(key);
    const w: PlannedWrite = { op, key };
    if (op.op === 'create') {
      w.value = storedJson(op.object);
      compare.push({ key: kb, target: 'Create', result: 'Equal', create_revision: 0 });
      success.push({ request_put: { key: kb, value: Buffer.from(w.value) } });
    } else {
      if (op.op === 'update') w.value = storedJson(op.object);
      const opts = op.options;
      const name = op.op === 'delete' ? op.name : op.object.metadata.name!;
      if (opts?.expectedUid !== undefined) {
        const cur = known.get(key);
        if (!cur) throw errors.notFound(op.resource, name);
        const uid = (JSON.parse(cur.value.toString()) as KObject).metadata?.uid ?? '';
        if (uid !== opts.expectedUid) throw errors.conflict(op.resource, name, `Precondition failed: UID in precondition: ${opts.expectedUid}, UID in object meta: ${uid}`);
        if (opts.expectedResourceVersion !== undefined && opts.expectedResourceVersion !== cur.mod_revision) throw errors.staleResourceVersion(op.resource, name);
        w.expectedMod = Number(cur.mod_revision);
      } else if (opts?.expectedResourceVersion !== undefined) {
        // An rv we never wrote can never match; -1 makes the compare fail so the failure branch says why.
        w.expectedMod = parseResourceVersion(opts.expectedResourceVersion) ?? -1;
      }
      if (w.expectedMod !== undefined) compare.push({ key: kb, target: 'Mod', result: 'Equal', mod_revision: w.expectedMod });
      else compare.push({ key: kb, target: 'Create', result: 'Greater', create_revision: 0 });
      success.push(op.op === 'update' ? { request_put: { key: kb, value: Buffer.from(w.value!) } } : { request_delete_range: { key: kb, prev_kv: true } });
    }
    failure.push({ request_range: { key: kb } });
    writes.push(w);
  }
  success.push({ request_put: { key: Buffer.from(keys.rev), value: Buffer.alloc(0) } });
  return { writes, request: { compare, success, failure } };
}

/** The objects a successful txn stored (deletes: the last state, with the deletion's revision). */
export function decodeSuccess(plan: TxnPlan, res: ITxnResponse): KObject[] {
  const rev = res.header.revision;
  return plan.writes.map((w, i) => {
    if (w.op.op === 'delete') {
      const prev = res.responses[i]?.response_delete_range?.prev_kvs?.[0];
      if (!prev) throw errors.internal(`etcd deleted ${w.key} but returned no previous value`);
      return decodeObject(prev.value.toString(), rev);
    }
    return decodeObject(w.value!, rev);
  });
}

/** What the key must look like for `w` to apply; the error a client gets when it does not. */
function check(w: PlannedWrite, cur: SeenKV): StatusError | undefined {
  const op = w.op;
  if (op.op === 'create') return cur ? errors.alreadyExists(op.resource, op.object.metadata.name!) : undefined;
  const name = op.op === 'delete' ? op.name : op.object.metadata.name!;
  if (!cur) return errors.notFound(op.resource, name);
  if (w.expectedMod !== undefined && String(w.expectedMod) !== cur.mod_revision) {
    return op.options?.expectedUid !== undefined ? undefined : errors.staleResourceVersion(op.resource, name);
  }
  return undefined;
}

/** Why a txn's compare failed: the first op's error, or 'retry' when only a uid-read went stale. */
export function explainFailure(plan: TxnPlan, res: ITxnResponse): StatusError | 'retry' {
  for (let i = 0; i < plan.writes.length; i++) {
    const kv = res.responses[i]?.response_range?.kvs?.[0];
    const err = check(plan.writes[i]!, kv);
    if (err) return err;
  }
  return 'retry';
}

/**
 * After an attempt whose outcome is unknown (the connection dropped mid-call) and a retry whose
 * compare failed: did the first attempt apply? True when every key holds exactly what `plan` wrote.
 * Deletes cannot be told apart from someone else's, so a plan with a delete never counts as applied.
 */
export function wasApplied(plan: TxnPlan, current: SeenKV[]): boolean {
  return plan.writes.every((w, i) => w.op.op !== 'delete' && current[i] !== undefined && current[i]!.value.toString() === w.value);
}

// The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount): a new Pod runs as an
// existing ServiceAccount (`default` unless it names one) and, unless it or its account says
// automountServiceAccountToken: false, gets the kube-api-access projected volume that the agent fills
// with a bound token, the cluster CA and the namespace. A missing ServiceAccount is a 403; the
// `default` one of a namespace created a moment ago is waited for briefly, as Kubernetes does.

import crypto from 'node:crypto';
import type { KObject, Pod, ServiceAccount } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors } from '../api/errors.js';
import type { Informer } from '../client/informer.js';
import type { ApiClient } from '../client/types.js';
import type { AdmissionHook } from '../server/admission.js';
import { admitPodServiceAccount, DEFAULT_SERVICE_ACCOUNT } from './logic/accounts.js';
import { isNotFound } from './shared.js';

const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
/** How long a Pod waits for its namespace's `default` ServiceAccount to appear. */
const DEFAULT_SA_WAIT_MS = 3000;

function suffix(): string {
  let s = '';
  for (const b of crypto.randomBytes(5)) s += SUFFIX_CHARS[b % SUFFIX_CHARS.length];
  return s;
}

export function serviceAccountAdmission(accounts: Informer<ServiceAccount>, client: ApiClient, waitMs = DEFAULT_SA_WAIT_MS): AdmissionHook {
  const lookup = async (ns: string, name: string): Promise<ServiceAccount | undefined> => {
    const deadline = Date.now() + (name === DEFAULT_SERVICE_ACCOUNT ? waitMs : 0);
    for (;;) {
      const hit = accounts.get(ns, name);
      if (hit) return hit;
      try {
        return await client.get<ServiceAccount>(R.serviceaccounts, ns, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    resource: R.pods,
    async admit(ctx, obj: KObject) {
      if (ctx.op !== 'create') return;
      const pod = obj as Pod;
      // Mirror pods (a node's static pods) keep what they have, as in Kubernetes.
      if (pod.metadata.annotations?.['kubernetes.io/config.mirror']) return;
      const ns = pod.metadata.namespace ?? 'default';
      const name = pod.spec.serviceAccountName || DEFAULT_SERVICE_ACCOUNT;
      const sa = await lookup(ns, name);
      if (!sa) throw errors.forbidden(R.pods, pod.metadata.name ?? '', `error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`);
      admitPodServiceAccount(pod, sa, suffix());
    },
  };
}

// Deployment and ReplicaSet rules (pkg/apis/apps/validation).

import { isPercent } from '../names.js';
import { labelSelectorMatcher } from '../selectors.js';
import type { LabelSelector } from '../types.js';
import { type Causes, each, forbidden, invalid, isObj, nonNegative, notSupported, numAt, objAt, required, strAt, strMapAt } from './field.js';
import { isEmptySelector, validateLabelSelector } from './meta.js';
import { validatePodTemplateSpec } from './pod.js';

/** Selector present, non-empty, valid, and matching the template's labels; the template a valid pod template. */
function validateSelectorAndTemplate(spec: Record<string, unknown>, kindWord: string): Causes {
  const out: Causes = [];
  const sel = spec.selector as LabelSelector | undefined;
  if (!isObj(sel)) out.push(required('spec.selector'));
  else if (isEmptySelector(sel)) out.push(invalid('spec.selector', sel, `empty selector is invalid for ${kindWord}`));
  else out.push(...validateLabelSelector(sel, 'spec.selector'));

  if (!isObj(spec.template)) {
    out.push(required('spec.template'));
    return out;
  }
  const template = spec.template;
  const labels = strMapAt(objAt(template.metadata).labels);
  if (isObj(sel) && !isEmptySelector(sel) && !labelSelectorMatcher(sel)(labels)) {
    out.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  out.push(...validatePodTemplateSpec(template, 'spec.template'));
  const rp = strAt(objAt(template.spec).restartPolicy);
  if (rp && rp !== 'Always') out.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (objAt(template.spec).activeDeadlineSeconds !== undefined) {
    out.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return out;
}

function intOrPercent(path: string, v: unknown): { causes: Causes; zero: boolean; value?: number; percent?: boolean } {
  if (v === undefined) return { causes: [], zero: false };
  if (typeof v === 'number') {
    return { causes: nonNegative(path, v), zero: v === 0, value: v };
  }
  if (typeof v === 'string') {
    const errs = isPercent(v);
    if (errs.length) return { causes: each(path, v, errs), zero: false };
    const n = Number(v.slice(0, -1));
    return { causes: [], zero: n === 0, value: n, percent: true };
  }
  return { causes: [], zero: false };
}

function validateStrategy(strategy: unknown): Causes {
  const out: Causes = [];
  if (!isObj(strategy)) return out;
  const type = strAt(strategy.type) || 'RollingUpdate';
  if (!['Recreate', 'RollingUpdate'].includes(type)) out.push(notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
  const ru = strategy.rollingUpdate;
  if (type === 'Recreate' && isObj(ru)) out.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  if (type === 'RollingUpdate' && isObj(ru)) {
    const surge = intOrPercent('spec.strategy.rollingUpdate.maxSurge', ru.maxSurge);
    const unavail = intOrPercent('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable);
    out.push(...surge.causes, ...unavail.causes);
    if (unavail.percent && (unavail.value ?? 0) > 100) {
      out.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'must not be greater than 100%'));
    }
    if (surge.zero && unavail.zero) {
      out.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  return out;
}

export function validateDeployment(obj: Record<string, unknown>): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  out.push(...nonNegative('spec.replicas', numAt(spec.replicas)));
  out.push(...validateSelectorAndTemplate(spec, 'deployment'));
  out.push(...validateStrategy(spec.strategy));
  out.push(...nonNegative('spec.minReadySeconds', numAt(spec.minReadySeconds)));
  out.push(...nonNegative('spec.revisionHistoryLimit', numAt(spec.revisionHistoryLimit)));
  const pds = numAt(spec.progressDeadlineSeconds);
  if (pds !== undefined) {
    out.push(...nonNegative('spec.progressDeadlineSeconds', pds));
    const mrs = numAt(spec.minReadySeconds) ?? 0;
    if (pds <= mrs) out.push(invalid('spec.progressDeadlineSeconds', pds, 'must be greater than minReadySeconds'));
  }
  return out;
}

export function validateReplicaSet(obj: Record<string, unknown>): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  out.push(...nonNegative('spec.replicas', numAt(spec.replicas)));
  out.push(...nonNegative('spec.minReadySeconds', numAt(spec.minReadySeconds)));
  out.push(...validateSelectorAndTemplate(spec, 'replicaset'));
  return out;
}

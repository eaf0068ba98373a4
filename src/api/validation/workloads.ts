// StatefulSet, DaemonSet and ControllerRevision rules (pkg/apis/apps/validation).

import { isDNS1123Label, isPercent } from '../names.js';
import { labelSelectorMatcher } from '../selectors.js';
import type { LabelSelector } from '../types.js';
import { type Causes, child, duplicate, each, forbidden, index, invalid, isObj, listAt, nonNegative, notSupported, numAt, type Obj, objAt, required, strAt, strMapAt } from './field.js';
import { isEmptySelector, validateLabelSelector } from './meta.js';
import { validatePodTemplateSpec } from './pod.js';
import { validateClaimSpec } from './storage.js';

function selectorAndTemplate(spec: Obj, kindWord: string, extraVolumes: string[] = []): Causes {
  const out: Causes = [];
  const sel = spec.selector as LabelSelector | undefined;
  if (!isObj(sel)) out.push(required('spec.selector'));
  else if (isEmptySelector(sel)) out.push(invalid('spec.selector', sel, `empty selector is invalid for ${kindWord}`));
  else out.push(...validateLabelSelector(sel, 'spec.selector'));
  if (!isObj(spec.template)) {
    out.push(required('spec.template'));
    return out;
  }
  const labels = strMapAt(objAt(spec.template.metadata).labels);
  if (isObj(sel) && !isEmptySelector(sel) && !labelSelectorMatcher(sel)(labels)) {
    out.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  // The volumes a template's containers may mount include the claims of volumeClaimTemplates.
  const tspec = objAt(spec.template.spec);
  const volumes = [...listAt(tspec.volumes), ...extraVolumes.map((name) => ({ name, persistentVolumeClaim: { claimName: name } }))];
  const template = extraVolumes.length ? { ...spec.template, spec: { ...tspec, volumes } } : spec.template;
  out.push(...validatePodTemplateSpec(template, 'spec.template'));
  return out;
}

function intOrPercent(path: string, v: unknown): Causes {
  if (typeof v === 'number') return nonNegative(path, v);
  if (typeof v === 'string') {
    const errs = isPercent(v);
    if (errs.length) return each(path, v, errs);
    if (Number(v.slice(0, -1)) > 100) return [invalid(path, v, 'must not be greater than 100%')];
  }
  return [];
}

const isZero = (v: unknown) => v === 0 || v === '0%';

export function validateStatefulSet(obj: Obj): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  out.push(...nonNegative('spec.replicas', numAt(spec.replicas)));
  out.push(...nonNegative('spec.minReadySeconds', numAt(spec.minReadySeconds)));
  out.push(...nonNegative('spec.revisionHistoryLimit', numAt(spec.revisionHistoryLimit)));
  const pmp = strAt(spec.podManagementPolicy);
  if (pmp && !['OrderedReady', 'Parallel'].includes(pmp)) out.push(notSupported('spec.podManagementPolicy', pmp, ['OrderedReady', 'Parallel']));
  const svc = strAt(spec.serviceName);
  if (svc) out.push(...each('spec.serviceName', svc, isDNS1123Label(svc)));
  const claimNames: string[] = [];
  listAt(spec.volumeClaimTemplates).forEach((t, i) => {
    const p = index('spec.volumeClaimTemplates', i);
    const name = strAt(objAt(t.metadata).name);
    if (!name) out.push(required(child(p, 'metadata', 'name')));
    else {
      out.push(...each(child(p, 'metadata', 'name'), name, isDNS1123Label(name)));
      if (claimNames.includes(name)) out.push(duplicate(child(p, 'metadata', 'name'), name));
      claimNames.push(name);
    }
    out.push(...validateClaimSpec(objAt(t.spec), child(p, 'spec')));
  });
  out.push(...selectorAndTemplate(spec, 'statefulset', claimNames));
  const rp = strAt(objAt(objAt(spec.template).spec).restartPolicy);
  if (rp && rp !== 'Always') out.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  const us = objAt(spec.updateStrategy);
  const type = strAt(us.type);
  if (type && !['RollingUpdate', 'OnDelete'].includes(type)) out.push(notSupported('spec.updateStrategy.type', type, ['OnDelete', 'RollingUpdate']));
  if (type === 'OnDelete' && isObj(us.rollingUpdate)) out.push(invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, 'only allowed for updateStrategy \'RollingUpdate\''));
  if (isObj(us.rollingUpdate)) {
    out.push(...nonNegative('spec.updateStrategy.rollingUpdate.partition', numAt(us.rollingUpdate.partition)));
    const mu = us.rollingUpdate.maxUnavailable;
    if (mu !== undefined) {
      out.push(...intOrPercent('spec.updateStrategy.rollingUpdate.maxUnavailable', mu));
      if (isZero(mu)) out.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', mu, 'must be greater than 0'));
    }
  }
  const policy = objAt(spec.persistentVolumeClaimRetentionPolicy);
  for (const f of ['whenDeleted', 'whenScaled']) {
    const v = strAt(policy[f]);
    if (v && !['Retain', 'Delete'].includes(v)) out.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, v, ['Retain', 'Delete']));
  }
  out.push(...nonNegative('spec.ordinals.start', numAt(objAt(spec.ordinals).start)));
  return out;
}

export function validateDaemonSet(obj: Obj): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  out.push(...selectorAndTemplate(spec, 'daemonset'));
  const rp = strAt(objAt(objAt(spec.template).spec).restartPolicy);
  if (rp && rp !== 'Always') out.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (objAt(objAt(spec.template).spec).activeDeadlineSeconds !== undefined) {
    out.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in DaemonSet is not Supported'));
  }
  out.push(...nonNegative('spec.minReadySeconds', numAt(spec.minReadySeconds)));
  out.push(...nonNegative('spec.revisionHistoryLimit', numAt(spec.revisionHistoryLimit)));
  const us = objAt(spec.updateStrategy);
  const type = strAt(us.type);
  if (type && !['RollingUpdate', 'OnDelete'].includes(type)) out.push(notSupported('spec.updateStrategy.type', type, ['OnDelete', 'RollingUpdate']));
  if (isObj(us.rollingUpdate)) {
    const ru = us.rollingUpdate;
    out.push(...intOrPercent('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable));
    out.push(...intOrPercent('spec.updateStrategy.rollingUpdate.maxSurge', ru.maxSurge));
    const mu = ru.maxUnavailable ?? 1;
    const ms = ru.maxSurge ?? 0;
    if (isZero(mu) && isZero(ms)) out.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', mu, 'may not be 0 when `maxSurge` is 0'));
    if (!isZero(mu) && !isZero(ms)) out.push(invalid('spec.updateStrategy.rollingUpdate.maxSurge', ms, 'may not be set when maxUnavailable is non-zero'));
  }
  return out;
}

export function validateControllerRevision(obj: Obj): Causes {
  const rev = numAt(obj.revision);
  return rev === undefined ? [required('revision')] : nonNegative('revision', rev);
}

// Job and CronJob rules (pkg/apis/batch/validation).

import { parseCronSchedule, timeZoneError } from '../cron.js';
import { labelSelectorMatcher } from '../selectors.js';
import type { LabelSelector } from '../types.js';
import { type Causes, child, forbidden, invalid, isObj, nonNegative, notSupported, numAt, type Obj, objAt, required, strAt, strMapAt } from './field.js';
import { isEmptySelector, validateLabelSelector, validateTemplateMeta } from './meta.js';
import { validatePodTemplateSpec } from './pod.js';

const MAX_PARALLELISM_INDEXED = 100_000;

/** A JobSpec at `path` (`spec`, or `spec.jobTemplate.spec` of a CronJob, whose selector is generated later). */
export function validateJobSpec(spec: Obj, path: string, opts: { cronTemplate?: boolean } = {}): Causes {
  const out: Causes = [];
  const p = (f: string) => child(path, f);
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) out.push(...nonNegative(p(f), numAt(spec[f])));
  const ads = numAt(spec.activeDeadlineSeconds);
  if (ads !== undefined && ads <= 0) out.push(invalid(p('activeDeadlineSeconds'), ads, 'must be greater than 0'));
  const mode = strAt(spec.completionMode);
  if (mode && !['NonIndexed', 'Indexed'].includes(mode)) out.push(notSupported(p('completionMode'), mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed') {
    if (numAt(spec.completions) === undefined) out.push(required(p('completions'), 'when completion mode is Indexed'));
    const par = numAt(spec.parallelism);
    if (par !== undefined && par > MAX_PARALLELISM_INDEXED) out.push(invalid(p('parallelism'), par, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
  } else {
    for (const f of ['backoffLimitPerIndex', 'maxFailedIndexes', 'successPolicy']) {
      if (spec[f] !== undefined) out.push(invalid(p(f), spec[f], 'requires indexed completion mode'));
    }
  }
  const sel = spec.selector as LabelSelector | undefined;
  const manual = spec.manualSelector === true;
  if (isObj(sel)) {
    out.push(...validateLabelSelector(sel, p('selector')));
    const labels = strMapAt(objAt(objAt(spec.template).metadata).labels);
    if (!isEmptySelector(sel) && !labelSelectorMatcher(sel)(labels)) out.push(invalid(child(path, 'template', 'metadata', 'labels'), labels, '`selector` does not match template `labels`'));
  } else if (!opts.cronTemplate && manual) out.push(required(p('selector')));
  if (!isObj(spec.template)) {
    out.push(required(p('template')));
    return out;
  }
  out.push(...validatePodTemplateSpec(spec.template, p('template')));
  const rp = strAt(objAt(spec.template.spec).restartPolicy);
  if (rp !== 'OnFailure' && rp !== 'Never') out.push(notSupported(child(path, 'template', 'spec', 'restartPolicy'), rp, ['OnFailure', 'Never']));
  return out;
}

export function validateJob(obj: Obj): Causes {
  return validateJobSpec(objAt(obj.spec), 'spec');
}

export function validateCronJob(obj: Obj): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  const name = strAt(objAt(obj.metadata).name);
  // The Job it creates is named <cronjob>-<minutes since the epoch>: 11 more characters within 63.
  if (name.length > 52) out.push(invalid('metadata.name', name, 'must be no more than 52 characters'));
  const tz = spec.timeZone;
  let tzOk = true;
  if (typeof tz === 'string') {
    const err = timeZoneError(tz);
    if (err) {
      out.push(invalid('spec.timeZone', tz, err));
      tzOk = false;
    }
  }
  const schedule = strAt(spec.schedule);
  if (!schedule) out.push(required('spec.schedule'));
  else {
    const parsed = parseCronSchedule(schedule, tzOk && typeof tz === 'string' ? tz : undefined);
    if (parsed.error) out.push(invalid('spec.schedule', schedule, parsed.error));
  }
  const cp = strAt(spec.concurrencyPolicy);
  if (cp && !['Allow', 'Forbid', 'Replace'].includes(cp)) out.push(notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) out.push(...nonNegative(`spec.${f}`, numAt(spec[f])));
  const jt = objAt(spec.jobTemplate);
  if (!isObj(spec.jobTemplate)) out.push(required('spec.jobTemplate'));
  else {
    out.push(...validateTemplateMeta(jt.metadata, 'spec.jobTemplate.metadata'));
    out.push(...validateJobSpec(objAt(jt.spec), 'spec.jobTemplate.spec', { cronTemplate: true }));
    if (objAt(jt.spec).manualSelector === true && !isObj(objAt(jt.spec).selector)) out.push(forbidden('spec.jobTemplate.spec.manualSelector', 'a CronJob\'s jobs get a generated selector'));
  }
  return out;
}

// Why a Pod is or is not behind a Service, in one line a person can act on: "labels match, not Ready:
// Readiness probe failed: HTTP probe failed with statuscode: 503". Pure: from the slim objects only.

import type { WEndpoint, WEvent, WPod, WService } from '../wire.js';

export interface SelectorMatch {
  matches: boolean;
  /** Selector entries the Pod's labels satisfy. */
  matched: [string, string][];
  /** Selector entries they do not: what the selector wants and what the Pod has (undefined: no such label). */
  missing: { key: string; want: string; have?: string }[];
}

export function matchSelector(selector: Record<string, string> | undefined, labels: Record<string, string>): SelectorMatch {
  const matched: [string, string][] = [];
  const missing: SelectorMatch['missing'] = [];
  for (const [key, want] of Object.entries(selector ?? {})) {
    const have = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
    if (have === want) matched.push([key, want]);
    else missing.push(have === undefined ? { key, want } : { key, want, have });
  }
  return { matches: selector !== undefined && missing.length === 0, matched, missing };
}

export type MemberState = 'ready' | 'notready' | 'terminating' | 'candidate' | 'excluded';

export interface Why {
  /** An endpoint of the Service (ready or not). */
  member: boolean;
  state: MemberState;
  text: string;
}

const pairs = (ps: [string, string][]) => ps.map(([k, v]) => `${k}=${v}`).join(', ');

/** The endpoints of `pod` among a Service's endpoints (by target Pod, else by IP). */
export function endpointsOf(pod: WPod, endpoints: WEndpoint[]): WEndpoint[] {
  return endpoints.filter((e) => (e.pod ? e.pod === pod.meta.name && (!e.podUid || !pod.meta.uid || e.podUid === pod.meta.uid) : !!pod.ip && e.ip === pod.ip));
}

/** Why a Pod is not Ready, most specific cause first. `events` may hold any Events; only this Pod's are used. */
export function notReadyReason(pod: WPod, events: Iterable<WEvent>): string {
  if (pod.meta.deleting) return 'the Pod is being deleted';
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return `the Pod has finished (${pod.phase})${pod.reason ? `: ${pod.reason}` : ''}`;
  for (const c of pod.containers) {
    if (c.state === 'waiting' && c.reason) return `container ${c.name}: ${c.reason}${c.message ? `: ${c.message}` : ''}`;
    if (c.state === 'terminated') return `container ${c.name} exited${c.reason ? `: ${c.reason}` : ''}`;
  }
  if (pod.phase === 'Pending' || !pod.phase) return pod.node ? `Pending${pod.reason ? `: ${pod.reason}` : ''}` : 'Pending: not scheduled to a node yet';
  const readyCond = pod.conditions.find((c) => c.type === 'Ready');
  // The newest readiness failure of this Pod since it last changed readiness.
  let probe: WEvent | undefined;
  for (const e of events) {
    if (e.object.kind !== 'Pod' || e.object.name !== pod.meta.name || e.meta.namespace !== pod.meta.namespace) continue;
    if (e.object.uid && pod.meta.uid && e.object.uid !== pod.meta.uid) continue;
    if (e.reason !== 'Unhealthy' || !/^Readiness probe/i.test(e.message)) continue;
    if (readyCond?.since && e.last < readyCond.since) continue;
    if (!probe || e.last > probe.last) probe = e;
  }
  if (probe) return probe.message;
  const unready = pod.containers.filter((c) => !c.ready);
  const withProbe = unready.find((c) => c.readinessProbe);
  if (withProbe) return `container ${withProbe.name}: readiness probe (${withProbe.readinessProbe}) has not passed yet`;
  if (readyCond?.message) return readyCond.message;
  if (unready.length) return `containers not ready: ${unready.map((c) => c.name).join(', ')}`;
  return 'not Ready';
}

/** Why `pod` is or is not in `svc`. `endpoints`: all of the Service's endpoints (from its EndpointSlices). */
export function explainMembership(svc: WService, pod: WPod, endpoints: WEndpoint[], events: Iterable<WEvent>): Why {
  if (svc.type === 'ExternalName') return { member: false, state: 'excluded', text: 'an ExternalName Service is a DNS alias: it selects no Pods' };
  if (svc.meta.namespace !== pod.meta.namespace) return { member: false, state: 'excluded', text: `the Pod is in namespace ${pod.meta.namespace}, the Service in ${svc.meta.namespace}` };
  const mine = endpointsOf(pod, endpoints);
  const sel = matchSelector(svc.selector, pod.meta.labels);
  let labelsText: string;
  if (!svc.selector) {
    if (mine.length === 0) return { member: false, state: 'excluded', text: 'the Service has no selector: its endpoints are managed by hand, and this Pod is not one' };
    labelsText = 'listed by hand (the Service has no selector)';
  } else if (!sel.matches) {
    const why = sel.missing.map((m) => (m.have === undefined ? `${m.key}=${m.want} wanted, the Pod has no ${m.key} label` : `${m.key}=${m.want} wanted, the Pod has ${m.key}=${m.have}`));
    if (mine.length === 0) return { member: false, state: 'excluded', text: `labels do not match: ${why.join('; ')}` };
    labelsText = `labels no longer match (${why.join('; ')}) but the endpoint is still listed`;
  } else {
    labelsText = `labels match (${pairs(sel.matched)})`;
  }
  if (mine.length === 0) {
    if (pod.meta.deleting) return { member: false, state: 'terminating', text: `${labelsText}, terminating: the Pod is being deleted` };
    if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return { member: false, state: 'excluded', text: `${labelsText}, but the Pod has finished (${pod.phase}): finished Pods are never endpoints` };
    if (!pod.ip) return { member: false, state: 'candidate', text: `${labelsText}, not an endpoint yet: the Pod has no IP (${notReadyReason(pod, events)})` };
    return { member: false, state: 'candidate', text: `${labelsText}, not an endpoint yet (the endpoints controller has not caught up)` };
  }
  if (mine.some((e) => e.terminating)) return { member: true, state: 'terminating', text: `${labelsText}, terminating: the Pod is being deleted and gets no new connections` };
  if (mine.every((e) => e.ready)) return { member: true, state: 'ready', text: `${labelsText}, Ready: gets traffic` };
  const pna = svc.publishNotReadyAddresses ? ' (published in DNS anyway: publishNotReadyAddresses)' : '';
  return { member: true, state: 'notready', text: `${labelsText}, not Ready: ${notReadyReason(pod, events)}${pna}` };
}

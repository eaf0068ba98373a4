// The NodeAffinity filter: spec.nodeSelector (every pair must be a node label) AND the required node
// affinity terms (ORed terms of ANDed requirements), with Kubernetes' operators. Preferred affinity is
// not scored yet.

import type { Node, Pod } from '../api/types.js';

interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export type NodeMatcher = (node: Node) => boolean;

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      if (!/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0])) return false;
      const a = BigInt(value);
      const b = BigInt(values[0]);
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

// A term with no requirements matches nothing (Kubernetes' nodeaffinity.NewNodeSelector rule).
function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of exprs) {
    const v = Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined;
    if (!requirementMatches(r, v)) return false;
  }
  for (const r of fields) {
    // metadata.name is the only node field Kubernetes supports here.
    if (r.key !== 'metadata.name' || !requirementMatches(r, node.metadata.name)) return false;
  }
  return true;
}

function requiredTerms(pod: Pod): NodeSelectorTerm[] | undefined {
  const na = (pod.spec?.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } } | undefined)?.nodeAffinity;
  const req = na?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!req) return undefined;
  return Array.isArray(req.nodeSelectorTerms) ? req.nodeSelectorTerms : [];
}

/** A predicate for "does this node satisfy the pod's nodeSelector and required node affinity". */
export function nodeAffinityMatcher(pod: Pod): NodeMatcher {
  const selector = Object.entries(pod.spec?.nodeSelector ?? {});
  const terms = requiredTerms(pod);
  if (selector.length === 0 && terms === undefined) return () => true;
  return (node) => {
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of selector) {
      if (!Object.prototype.hasOwnProperty.call(labels, k) || labels[k] !== v) return false;
    }
    if (terms === undefined) return true;
    return terms.some((t) => termMatches(t, node));
  };
}

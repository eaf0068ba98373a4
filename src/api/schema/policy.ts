// policy/v1 PodDisruptionBudget and Eviction, scheduling.k8s.io/v1 PriorityClass and
// networking.k8s.io/v1 NetworkPolicy: the kinds a typical chart carries beside its workloads.

import { arr, bool, enumOf, int, int64, intOrString, META, NET, obj, POLICY, ref, root, SCHEDULING, str, strs, time, type Schema } from './builders.js';
import { PROTOCOLS } from './pod.js';

const selector = (description: string) => ref(`${META}LabelSelector`, description);

export function policySchemas(): Record<string, Schema> {
  return {
    [`${POLICY}PodDisruptionBudget`]: root(
      { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' },
      'PodDisruptionBudget is an object to define the max disruption that can be caused to a collection of pods.',
      {
        spec: ref(`${POLICY}PodDisruptionBudgetSpec`, 'Specification of the desired behavior of the PodDisruptionBudget.'),
        status: ref(`${POLICY}PodDisruptionBudgetStatus`, 'Most recently observed status of the PodDisruptionBudget.'),
      },
    ),
    [`${POLICY}PodDisruptionBudgetSpec`]: obj({
      minAvailable: intOrString('An eviction is allowed if at least "minAvailable" pods selected by "selector" will still be available after the eviction. Mutually exclusive with maxUnavailable.'),
      maxUnavailable: intOrString('An eviction is allowed if at most "maxUnavailable" pods selected by "selector" are unavailable after the eviction. Mutually exclusive with minAvailable.'),
      selector: selector('Label query over pods whose evictions are managed by the disruption budget. A null selector selects no pods; an empty one selects all pods in the namespace.'),
      unhealthyPodEvictionPolicy: enumOf(['AlwaysAllow', 'IfHealthyBudget'], 'When unhealthy running pods may be evicted: IfHealthyBudget (the default) or AlwaysAllow.'),
    }),
    [`${POLICY}PodDisruptionBudgetStatus`]: obj(
      {
        observedGeneration: int64('The most recent generation observed when updating this PDB status.'),
        disruptedPods: { type: 'object', additionalProperties: time(), description: 'Pods whose eviction was processed by the API server but not yet observed deleted by the disruption controller.' },
        disruptionsAllowed: int('Number of pod disruptions that are currently allowed.'),
        currentHealthy: int('Current number of healthy pods.'),
        desiredHealthy: int('Minimum desired number of healthy pods.'),
        expectedPods: int('Total number of pods counted by this disruption budget.'),
        conditions: arr(ref(`${META}Condition`), { type: 'map', keys: ['type'], mergeKey: 'type', description: 'Conditions contain conditions for PDB (DisruptionAllowed).' }),
      },
      { required: ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] },
    ),
    [`${SCHEDULING}PriorityClass`]: root(
      { group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass' },
      'PriorityClass defines mapping from a priority class name to the priority integer value.',
      {
        value: int('The integer value of this priority class: the priority pods receive when they name it in priorityClassName.'),
        globalDefault: bool('Whether this priority class is the default for pods that name none. Only one PriorityClass may be the default.'),
        description: str('An arbitrary string that usually provides guidelines on when this priority class should be used.'),
        preemptionPolicy: enumOf(['Never', 'PreemptLowerPriority'], 'The Policy for preempting pods with lower priority: Never or PreemptLowerPriority (the default).'),
      },
      ['value'],
    ),

    [`${NET}NetworkPolicy`]: root(
      { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
      'NetworkPolicy describes what network traffic is allowed for a set of Pods. kubelite stores and lists NetworkPolicies but does not enforce them.',
      { spec: ref(`${NET}NetworkPolicySpec`, 'Desired behavior for this NetworkPolicy.') },
    ),
    [`${NET}NetworkPolicySpec`]: obj(
      {
        podSelector: selector('Selects the pods to which this NetworkPolicy object applies; an empty selector selects every pod in the namespace.'),
        ingress: arr(ref(`${NET}NetworkPolicyIngressRule`), { type: 'atomic', description: 'Ingress rules; traffic is allowed if it matches at least one.' }),
        egress: arr(ref(`${NET}NetworkPolicyEgressRule`), { type: 'atomic', description: 'Egress rules; traffic is allowed if it matches at least one.' }),
        policyTypes: arr(enumOf(['Ingress', 'Egress']), { type: 'atomic', description: 'Rule types the NetworkPolicy relates to: Ingress, Egress or both.' }),
      },
      { required: ['podSelector'] },
    ),
    [`${NET}NetworkPolicyIngressRule`]: obj({
      ports: arr(ref(`${NET}NetworkPolicyPort`), { type: 'atomic', description: 'Ports which should be made accessible on the pods selected for this rule.' }),
      from: arr(ref(`${NET}NetworkPolicyPeer`), { type: 'atomic', description: 'Sources which should be able to access the pods selected for this rule.' }),
    }),
    [`${NET}NetworkPolicyEgressRule`]: obj({
      ports: arr(ref(`${NET}NetworkPolicyPort`), { type: 'atomic', description: 'Destination ports of outgoing traffic.' }),
      to: arr(ref(`${NET}NetworkPolicyPeer`), { type: 'atomic', description: 'Destinations for outgoing traffic of pods selected for this rule.' }),
    }),
    [`${NET}NetworkPolicyPort`]: obj({
      protocol: enumOf(PROTOCOLS, 'The protocol (TCP, UDP, or SCTP) which traffic must match; TCP when unset.'),
      port: intOrString('The port on the given protocol: a numerical or named port on a pod.'),
      endPort: int('With port, the end of a range of ports (port through endPort, inclusive).'),
    }),
    [`${NET}NetworkPolicyPeer`]: obj({
      podSelector: selector('Selects Pods; with namespaceSelector, in the selected namespaces, else in the policy\'s own.'),
      namespaceSelector: selector('Selects namespaces using cluster-scoped labels.'),
      ipBlock: ref(`${NET}IPBlock`, 'A particular CIDR that is allowed.'),
    }),
    [`${NET}IPBlock`]: obj({ cidr: str('A string representing the IP Block, e.g. "192.168.1.0/24".'), except: strs('CIDRs that should not be included within the IP Block.') }, { required: ['cidr'] }),
  };
}

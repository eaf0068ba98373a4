// policy/v1 PodDisruptionBudget and Eviction, scheduling.k8s.io/v1 PriorityClass.

import type { Condition, IntOrString, KObject, LabelSelector } from './types.js';

export interface PodDisruptionBudgetSpec {
  minAvailable?: IntOrString;
  maxUnavailable?: IntOrString;
  selector?: LabelSelector;
  unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow';
}

export interface PodDisruptionBudgetStatus {
  observedGeneration?: number;
  /** Pods being evicted (name -> when the eviction was admitted), not yet seen deleted by the controller. */
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: Condition[];
}

export interface PodDisruptionBudget extends KObject {
  apiVersion: 'policy/v1';
  kind: 'PodDisruptionBudget';
  spec: PodDisruptionBudgetSpec;
  status?: PodDisruptionBudgetStatus;
}

export interface Eviction extends KObject {
  apiVersion: 'policy/v1' | 'policy/v1beta1';
  kind: 'Eviction';
  deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[]; propagationPolicy?: string };
}

export interface PriorityClass extends KObject {
  apiVersion: 'scheduling.k8s.io/v1';
  kind: 'PriorityClass';
  value: number;
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: 'Never' | 'PreemptLowerPriority';
}

// autoscaling/v2 HorizontalPodAutoscaler (stored) and autoscaling/v1 (its older form, still what
// `kubectl autoscale` writes).

import { arr, AUTOSCALING_V1, AUTOSCALING_V2, enumOf, int, int64, keyedList, META, obj, quantity, ref, root, str, time, type Schema } from './builders.js';

const v2 = (name: string, description?: string) => ref(AUTOSCALING_V2 + name, description);
const v1 = (name: string, description?: string) => ref(AUTOSCALING_V1 + name, description);

function crossVersionRef(): Schema {
  return obj(
    {
      kind: str('Kind of the referent.'),
      name: str('Name of the referent.'),
      apiVersion: str('API version of the referent.'),
    },
    { required: ['kind', 'name'], description: 'CrossVersionObjectReference contains enough information to let you identify the referred resource.' },
  );
}

export function autoscalingSchemas(): Record<string, Schema> {
  const identifier = v2('MetricIdentifier', 'metric identifies the target metric by name and selector');
  const target = v2('MetricTarget', 'target specifies the target value for the given metric');
  const current = v2('MetricValueStatus', 'current contains the current value for the given metric');
  return {
    [`${AUTOSCALING_V2}HorizontalPodAutoscaler`]: root(
      { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' },
      'HorizontalPodAutoscaler is the configuration for a horizontal pod autoscaler, which automatically manages the replica count of any resource implementing the scale subresource based on the metrics specified.',
      {
        spec: v2('HorizontalPodAutoscalerSpec', 'spec is the specification for the behaviour of the autoscaler.'),
        status: v2('HorizontalPodAutoscalerStatus', 'status is the current information about the autoscaler.'),
      },
    ),
    [`${AUTOSCALING_V2}HorizontalPodAutoscalerSpec`]: obj(
      {
        scaleTargetRef: v2('CrossVersionObjectReference', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
        minReplicas: int('minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down. It defaults to 1 pod.'),
        maxReplicas: int('maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
        metrics: arr(v2('MetricSpec'), { type: 'atomic', description: 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used). If not set, the default metric will be set to 80% average CPU utilization.' }),
        behavior: v2('HorizontalPodAutoscalerBehavior', 'behavior configures the scaling behavior of the target in both Up and Down directions (scaleUp and scaleDown fields respectively).'),
      },
      { required: ['scaleTargetRef', 'maxReplicas'] },
    ),
    [`${AUTOSCALING_V2}CrossVersionObjectReference`]: crossVersionRef(),
    [`${AUTOSCALING_V2}MetricSpec`]: obj(
      {
        type: enumOf(['ContainerResource', 'External', 'Object', 'Pods', 'Resource'], 'type is the type of metric source.'),
        resource: v2('ResourceMetricSource', 'resource refers to a resource metric (such as those specified in requests and limits) known to Kubernetes describing each pod in the current scale target (e.g. CPU or memory).'),
        containerResource: v2('ContainerResourceMetricSource', 'containerResource refers to a resource metric of a single container in each pod of the current scale target.'),
        pods: v2('PodsMetricSource', 'pods refers to a metric describing each pod in the current scale target.'),
        object: v2('ObjectMetricSource', 'object refers to a metric describing a single kubernetes object.'),
        external: v2('ExternalMetricSource', 'external refers to a global metric that is not associated with any Kubernetes object.'),
      },
      { required: ['type'] },
    ),
    [`${AUTOSCALING_V2}ResourceMetricSource`]: obj({ name: str('name is the name of the resource in question.'), target }, { required: ['name', 'target'] }),
    [`${AUTOSCALING_V2}ContainerResourceMetricSource`]: obj(
      { name: str('name is the name of the resource in question.'), target, container: str('container is the name of the container in the pods of the scaling target') },
      { required: ['name', 'target', 'container'] },
    ),
    [`${AUTOSCALING_V2}MetricIdentifier`]: obj({ name: str('name is the name of the given metric'), selector: ref(`${META}LabelSelector`) }, { required: ['name'] }),
    [`${AUTOSCALING_V2}PodsMetricSource`]: obj({ metric: identifier, target }, { required: ['metric', 'target'] }),
    [`${AUTOSCALING_V2}ObjectMetricSource`]: obj({ describedObject: v2('CrossVersionObjectReference'), target, metric: identifier }, { required: ['describedObject', 'target', 'metric'] }),
    [`${AUTOSCALING_V2}ExternalMetricSource`]: obj({ metric: identifier, target }, { required: ['metric', 'target'] }),
    [`${AUTOSCALING_V2}MetricTarget`]: obj(
      {
        type: enumOf(['AverageValue', 'Utilization', 'Value'], 'type represents whether the metric type is Utilization, Value, or AverageValue'),
        value: quantity('value is the target value of the metric (as a quantity).'),
        averageValue: quantity('averageValue is the target value of the average of the metric across all relevant pods (as a quantity)'),
        averageUtilization: int('averageUtilization is the target value of the average of the resource metric across all relevant pods, represented as a percentage of the requested value of the resource for the pods.'),
      },
      { required: ['type'] },
    ),
    [`${AUTOSCALING_V2}HorizontalPodAutoscalerBehavior`]: obj({
      scaleUp: v2('HPAScalingRules', 'scaleUp is scaling policy for scaling Up. If not set, the default value is the higher of: increase no more than 4 pods per 15 seconds; double the number of pods per 15 seconds. No stabilization is used.'),
      scaleDown: v2('HPAScalingRules', 'scaleDown is scaling policy for scaling Down. If not set, the default value is to allow to scale down to minReplicas pods, with a 300 second stabilization window.'),
    }),
    [`${AUTOSCALING_V2}HPAScalingRules`]: obj({
      stabilizationWindowSeconds: int('stabilizationWindowSeconds is the number of seconds for which past recommendations should be considered while scaling up or scaling down (0 to 3600).'),
      selectPolicy: enumOf(['Disabled', 'Max', 'Min'], 'selectPolicy is used to specify which policy should be used. If not set, the default value Max is used.'),
      policies: arr(v2('HPAScalingPolicy'), { type: 'atomic', description: 'policies is a list of potential scaling polices which can be used during scaling.' }),
      tolerance: quantity('tolerance is the tolerance on the ratio between the current and desired metric value under which no updates are made to the desired number of replicas (e.g. 0.01 for 1%).'),
    }),
    [`${AUTOSCALING_V2}HPAScalingPolicy`]: obj(
      {
        type: enumOf(['Percent', 'Pods'], 'type is used to specify the scaling policy.'),
        value: int('value contains the amount of change which is permitted by the policy. It must be greater than zero'),
        periodSeconds: int('periodSeconds specifies the window of time for which the policy should hold true (1 to 1800).'),
      },
      { required: ['type', 'value', 'periodSeconds'] },
    ),
    [`${AUTOSCALING_V2}HorizontalPodAutoscalerStatus`]: obj(
      {
        observedGeneration: int64('observedGeneration is the most recent generation observed by this autoscaler.'),
        lastScaleTime: time('lastScaleTime is the last time the HorizontalPodAutoscaler scaled the number of pods.'),
        currentReplicas: int('currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
        desiredReplicas: int('desiredReplicas is the desired number of replicas of pods managed by this autoscaler, as last calculated by the autoscaler.'),
        currentMetrics: arr(v2('MetricStatus'), { type: 'atomic', description: 'currentMetrics is the last read state of the metrics used by this autoscaler.' }),
        conditions: keyedList(v2('HorizontalPodAutoscalerCondition'), 'type', 'conditions is the set of conditions required for this autoscaler to scale its target, and indicates whether or not those conditions are met.'),
      },
      { required: ['desiredReplicas'] },
    ),
    [`${AUTOSCALING_V2}MetricStatus`]: obj(
      {
        type: enumOf(['ContainerResource', 'External', 'Object', 'Pods', 'Resource'], 'type is the type of metric source.'),
        resource: obj({ name: str(), current }, { required: ['name', 'current'] }),
        containerResource: obj({ name: str(), current, container: str() }, { required: ['name', 'current', 'container'] }),
        pods: obj({ metric: identifier, current }, { required: ['metric', 'current'] }),
        object: obj({ metric: identifier, current, describedObject: v2('CrossVersionObjectReference') }, { required: ['metric', 'current', 'describedObject'] }),
        external: obj({ metric: identifier, current }, { required: ['metric', 'current'] }),
      },
      { required: ['type'] },
    ),
    [`${AUTOSCALING_V2}MetricValueStatus`]: obj({
      value: quantity('value is the current value of the metric (as a quantity).'),
      averageValue: quantity('averageValue is the current value of the average of the metric across all relevant pods (as a quantity)'),
      averageUtilization: int('currentAverageUtilization is the current value of the average of the resource metric across all relevant pods, represented as a percentage of the requested value of the resource for the pods.'),
    }),
    [`${AUTOSCALING_V2}HorizontalPodAutoscalerCondition`]: obj(
      {
        type: str('type describes the current condition'),
        status: enumOf(['False', 'True', 'Unknown'], 'status is the status of the condition (True, False, Unknown)'),
        lastTransitionTime: time('lastTransitionTime is the last time the condition transitioned from one status to another'),
        reason: str("reason is the reason for the condition's last transition."),
        message: str('message is a human-readable explanation containing details about the transition'),
      },
      { required: ['type', 'status'] },
    ),

    [`${AUTOSCALING_V1}HorizontalPodAutoscaler`]: root(
      { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler' },
      'configuration of a horizontal pod autoscaler.',
      {
        spec: v1('HorizontalPodAutoscalerSpec', 'spec defines the behaviour of autoscaler.'),
        status: v1('HorizontalPodAutoscalerStatus', 'status is the current information about the autoscaler.'),
      },
    ),
    [`${AUTOSCALING_V1}HorizontalPodAutoscalerSpec`]: obj(
      {
        scaleTargetRef: v1('CrossVersionObjectReference', 'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.'),
        minReplicas: int('minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down. It defaults to 1 pod.'),
        maxReplicas: int('maxReplicas is the upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.'),
        targetCPUUtilizationPercentage: int('targetCPUUtilizationPercentage is the target average CPU utilization (represented as a percentage of requested CPU) over all the pods; if not specified the default autoscaling policy will be used.'),
      },
      { required: ['scaleTargetRef', 'maxReplicas'] },
    ),
    [`${AUTOSCALING_V1}CrossVersionObjectReference`]: crossVersionRef(),
    [`${AUTOSCALING_V1}HorizontalPodAutoscalerStatus`]: obj(
      {
        observedGeneration: int64('observedGeneration is the most recent generation observed by this autoscaler.'),
        lastScaleTime: time('lastScaleTime is the last time the HorizontalPodAutoscaler scaled the number of pods.'),
        currentReplicas: int('currentReplicas is the current number of replicas of pods managed by this autoscaler.'),
        desiredReplicas: int('desiredReplicas is the desired number of replicas of pods managed by this autoscaler.'),
        currentCPUUtilizationPercentage: int('currentCPUUtilizationPercentage is the current average CPU utilization over all pods, represented as a percentage of requested CPU.'),
      },
      { required: ['currentReplicas', 'desiredReplicas'] },
    ),
  };
}

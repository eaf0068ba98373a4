// Real-world manifests (the shapes Helm charts, `kubectl create --dry-run -o yaml` and the Kubernetes
// docs produce) must pass with no causes and no unknown fields; typos must be caught.

import test from 'ava';
import { parseAllDocuments } from 'yaml';
import { byKind } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { applyDefaults, unknownFieldsError, unknownFieldWarnings, validateObject } from '../../../../src/api/validation/index.js';

const HELM_DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-release-webapp
  namespace: default
  labels:
    helm.sh/chart: webapp-1.4.2
    app.kubernetes.io/name: webapp
    app.kubernetes.io/instance: my-release
    app.kubernetes.io/version: "2.7.1"
    app.kubernetes.io/managed-by: Helm
  annotations:
    meta.helm.sh/release-name: my-release
    meta.helm.sh/release-namespace: default
spec:
  replicas: 3
  revisionHistoryLimit: 5
  progressDeadlineSeconds: 300
  minReadySeconds: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: webapp
      app.kubernetes.io/instance: my-release
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      annotations:
        checksum/config: 0c6a8a1b2f0a4b7e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e
        prometheus.io/scrape: "true"
      labels:
        app.kubernetes.io/name: webapp
        app.kubernetes.io/instance: my-release
    spec:
      serviceAccountName: my-release-webapp
      automountServiceAccountToken: false
      imagePullSecrets:
        - name: regcred
      priorityClassName: high-priority
      securityContext:
        runAsNonRoot: true
        runAsUser: 1001
        fsGroup: 1001
        seccompProfile:
          type: RuntimeDefault
      initContainers:
        - name: wait-for-db
          image: busybox:1.36
          command: ['sh', '-c', 'until nc -z db 5432; do sleep 2; done']
          resources: {}
      containers:
        - name: webapp
          image: "registry.example.com/team/webapp:2.7.1"
          imagePullPolicy: IfNotPresent
          args: ["--port=8080", "--log-level=info"]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
            - name: metrics
              containerPort: 9090
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_IP
              valueFrom:
                fieldRef:
                  apiVersion: v1
                  fieldPath: status.podIP
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: my-release-db
                  key: password
            - name: LOG_FORMAT
              valueFrom:
                configMapKeyRef:
                  name: my-release-webapp
                  key: log.format
                  optional: true
            - name: MEMORY_LIMIT
              valueFrom:
                resourceFieldRef:
                  containerName: webapp
                  resource: limits.memory
                  divisor: 1Mi
            - name: GOMAXPROCS
              value: "2"
          envFrom:
            - configMapRef:
                name: my-release-webapp-env
            - prefix: APP_
              secretRef:
                name: my-release-webapp-secret
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 10
            periodSeconds: 20
            timeoutSeconds: 3
            failureThreshold: 6
          readinessProbe:
            httpGet:
              path: /ready
              port: 8080
              scheme: HTTP
              httpHeaders:
                - name: X-Probe
                  value: readiness
            periodSeconds: 5
          startupProbe:
            tcpSocket:
              port: http
            failureThreshold: 30
            periodSeconds: 2
          lifecycle:
            preStop:
              exec:
                command: ["/bin/sh", "-c", "sleep 5"]
          resources:
            limits:
              cpu: 500m
              memory: 512Mi
              ephemeral-storage: 1Gi
            requests:
              cpu: 100m
              memory: 128Mi
          volumeMounts:
            - name: config
              mountPath: /etc/webapp
              readOnly: true
            - name: tmp
              mountPath: /tmp
            - name: data
              mountPath: /var/lib/webapp
              subPath: webapp
            - name: tls
              mountPath: /etc/tls
              readOnly: true
          terminationMessagePolicy: FallbackToLogsOnError
      volumes:
        - name: config
          configMap:
            name: my-release-webapp
            items:
              - key: app.yaml
                path: app.yaml
            defaultMode: 420
        - name: tmp
          emptyDir:
            sizeLimit: 100Mi
        - name: data
          persistentVolumeClaim:
            claimName: my-release-webapp-data
        - name: tls
          secret:
            secretName: my-release-webapp-tls
            defaultMode: 0400
        - name: token
          projected:
            sources:
              - serviceAccountToken:
                  path: token
                  expirationSeconds: 3600
                  audience: webapp
              - configMap:
                  name: kube-root-ca.crt
                  items:
                    - key: ca.crt
                      path: ca.crt
              - downwardAPI:
                  items:
                    - path: namespace
                      fieldRef:
                        fieldPath: metadata.namespace
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
        - key: dedicated
          operator: Equal
          value: web
          effect: NoSchedule
        - key: node.kubernetes.io/not-ready
          operator: Exists
          effect: NoExecute
          tolerationSeconds: 300
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                labelSelector:
                  matchLabels:
                    app.kubernetes.io/name: webapp
                topologyKey: kubernetes.io/hostname
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - key: kubernetes.io/arch
                    operator: In
                    values: [amd64, arm64]
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: webapp
      terminationGracePeriodSeconds: 45
      dnsConfig:
        options:
          - name: ndots
            value: "2"
`;

const KUBECTL_DRY_RUN = `
apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - image: nginx
        name: nginx
        resources: {}
status: {}
---
apiVersion: v1
kind: Service
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
  namespace: default
spec:
  ports:
  - name: 80-80
    port: 80
    protocol: TCP
    targetPort: 80
  selector:
    app: web
  type: ClusterIP
status:
  loadBalancer: {}
`;

const OTHERS = `
apiVersion: v1
kind: Pod
metadata:
  name: nginx
  namespace: default
  labels: {app: nginx}
spec:
  containers:
  - name: nginx
    image: nginx:1.25.3
    ports:
    - containerPort: 80
      name: http
    readinessProbe:
      httpGet: {path: /, port: http}
    stdin: true
    tty: true
  restartPolicy: OnFailure
  hostname: nginx-0
  subdomain: nginx
---
apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, nodePort: 30080}
  - {name: dns, port: 53, targetPort: 5353, protocol: UDP}
  externalTrafficPolicy: Local
---
apiVersion: v1
kind: Service
metadata: {name: web-headless, namespace: default}
spec:
  clusterIP: None
  selector: {app: web}
  publishNotReadyAddresses: true
---
apiVersion: v1
kind: Service
metadata: {name: upstream, namespace: default}
spec:
  type: ExternalName
  externalName: api.example.test.
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default, annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}}
spec:
  type: LoadBalancer
  selector: {app: web}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  loadBalancerSourceRanges: [10.0.0.0/8]
  ports:
  - {port: 443, targetPort: 8443, name: https, appProtocol: https}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: default
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
spec:
  ingressClassName: kubelite
  tls:
  - hosts: [web.example.test, "*.apps.example.test"]
    secretName: web-tls
  defaultBackend:
    service: {name: default-http, port: {number: 80}}
  rules:
  - host: web.example.test
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {name: http}}
      - path: /api/v1/exact
        pathType: Exact
        backend:
          service: {name: api, port: {number: 8080}}
  - host: "*.apps.example.test"
    http:
      paths:
      - path: /
        pathType: ImplementationSpecific
        backend:
          service: {name: apps, port: {number: 80}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: kubelite
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec:
  controller: kubelite.io/ingress-controller
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: default}
data:
  app.yaml: |
    port: 8080
  LOG_LEVEL: info
binaryData:
  logo.png: iVBORw0KGgo=
---
apiVersion: v1
kind: Secret
metadata: {name: web-tls, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: default}
stringData:
  password: s3cr3t
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {kubernetes.io/metadata.name: team-a}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: frontend, namespace: default, labels: {tier: frontend}}
spec:
  replicas: 3
  selector:
    matchExpressions:
    - {key: tier, operator: In, values: [frontend]}
  template:
    metadata: {labels: {tier: frontend}}
    spec:
      containers:
      - {name: php-redis, image: "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5"}
`;

const AS_SERVER_WRITES = `
apiVersion: v1
kind: Node
metadata:
  name: host-1
  labels: {kubernetes.io/hostname: host-1, kubernetes.io/os: linux, node-role.kubernetes.io/control-plane: ""}
spec:
  podCIDR: 10.244.0.0/24
  podCIDRs: [10.244.0.0/24]
  taints: [{key: node-role.kubernetes.io/control-plane, effect: PreferNoSchedule}]
status:
  capacity: {cpu: "2", memory: 4025404Ki, pods: "110", ephemeral-storage: 30Gi}
  allocatable: {cpu: "2", memory: 3923004Ki, pods: "110"}
  addresses: [{type: InternalIP, address: 172.17.0.1}, {type: Hostname, address: host-1}]
  conditions:
  - {type: Ready, status: "True", reason: KubeletReady, message: kubelite agent is posting ready status, lastHeartbeatTime: "2024-05-01T10:00:00Z", lastTransitionTime: "2024-05-01T09:00:00Z"}
  daemonEndpoints: {kubeletEndpoint: {Port: 10250}}
  nodeInfo: {kubeletVersion: v1.32.0-kubelite, containerRuntimeVersion: docker://20.10.24, operatingSystem: linux, architecture: amd64, osImage: Debian GNU/Linux 12, kernelVersion: 6.1.0}
  images: [{names: ["nginx:1.25"], sizeBytes: 187000000}]
---
apiVersion: v1
kind: Event
metadata: {name: web-7d4b9c-x2x9z.17a8c1f2e3d4b5a6, namespace: default}
involvedObject: {kind: Pod, namespace: default, name: web-7d4b9c-x2x9z, uid: 5b4f7e0a-1111-2222-3333-444455556666, apiVersion: v1, resourceVersion: "1234", fieldPath: "spec.containers{nginx}"}
reason: Pulled
message: Container image "nginx:1.25" already present on machine
source: {component: kubelet, host: host-1}
firstTimestamp: "2024-05-01T10:00:00Z"
lastTimestamp: "2024-05-01T10:00:00Z"
count: 1
type: Normal
eventTime: null
reportingComponent: kubelet
reportingInstance: host-1
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default, labels: {app: web}}
subsets:
- addresses:
  - {ip: 10.244.0.5, nodeName: host-1, targetRef: {kind: Pod, namespace: default, name: web-1, uid: u-1}}
  notReadyAddresses:
  - {ip: 10.244.0.6, nodeName: host-1}
  ports:
  - {name: http, port: 8080, protocol: TCP}
  - {name: metrics, port: 9090, protocol: TCP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: default
  labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}
  ownerReferences: [{apiVersion: v1, kind: Service, name: web, uid: s-1, controller: true, blockOwnerDeletion: true}]
addressType: IPv4
endpoints:
- addresses: [10.244.0.5]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: host-1
  targetRef: {kind: Pod, namespace: default, name: web-1, uid: u-1}
ports:
- {name: http, port: 8080, protocol: TCP}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d4b9c-x2x9z
  generateName: web-7d4b9c-
  namespace: default
  uid: 5b4f7e0a-1111-2222-3333-444455556666
  resourceVersion: "1234"
  creationTimestamp: "2024-05-01T10:00:00Z"
  labels: {app: web, pod-template-hash: 7d4b9c}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d4b9c, uid: rs-1, controller: true, blockOwnerDeletion: true}]
  managedFields:
  - manager: kube-controller-manager
    operation: Update
    apiVersion: v1
    time: "2024-05-01T10:00:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
  selfLink: ""
spec:
  nodeName: host-1
  containers: [{name: nginx, image: "nginx:1.25"}]
status:
  phase: Running
  hostIP: 172.17.0.1
  podIP: 10.244.0.5
  podIPs: [{ip: 10.244.0.5}]
  startTime: "2024-05-01T10:00:00Z"
  qosClass: BestEffort
  conditions:
  - {type: Ready, status: "True", lastProbeTime: null, lastTransitionTime: "2024-05-01T10:00:01Z"}
  containerStatuses:
  - name: nginx
    ready: true
    started: true
    restartCount: 0
    image: nginx:1.25
    imageID: docker-pullable://nginx@sha256:abc
    containerID: docker://0123456789ab
    state: {running: {startedAt: "2024-05-01T10:00:01Z"}}
    lastState: {}
`;

function docs(text: string): KObject[] {
  return parseAllDocuments(text).map((d) => d.toJSON() as KObject);
}

for (const [label, text] of [
  ['a Helm-style Deployment', HELM_DEPLOYMENT],
  ['kubectl create --dry-run -o yaml output', KUBECTL_DRY_RUN],
  ['stock Pod/Service/Ingress/ConfigMap/Secret/Namespace/ReplicaSet manifests', OTHERS],
  ['objects as the server and agents write them', AS_SERVER_WRITES],
] as const) {
  test(`${label} pass with no causes and no unknown fields`, (t) => {
    for (const obj of docs(text)) {
      const res = byKind(obj.apiVersion, obj.kind);
      if (!res) throw new Error(`no resource for ${obj.kind}`);
      applyDefaults(res, obj);
      const r = validateObject(res, obj);
      t.deepEqual(r, { causes: [], unknownFields: [] }, `${obj.kind}/${obj.metadata.name}`);
    }
  });
}

test('validation does not depend on defaulting having dropped nulls', (t) => {
  const [deploy] = docs(KUBECTL_DRY_RUN);
  const res = byKind('apps/v1', 'Deployment')!;
  const copy = structuredClone(deploy);
  applyDefaults(res, copy);
  (copy.metadata as Record<string, unknown>).creationTimestamp = null;
  t.deepEqual(validateObject(res, copy), { causes: [], unknownFields: [] });
});

test('typos are reported as unknown fields with their Kubernetes paths', (t) => {
  const [deploy, svc] = docs(KUBECTL_DRY_RUN);
  const d = deploy as KObject & { spec: Record<string, any> };
  d.spec.replicass = 3;
  d.spec.template.spec.containers[0].imagee = 'nginx';
  d.spec.template.spec.containers[0].resources = { limit: { cpu: 1 } };
  d.metadata = { ...d.metadata, lables: { a: 'b' } } as KObject['metadata'];
  const dres = byKind('apps/v1', 'Deployment')!;
  applyDefaults(dres, d);
  const r = validateObject(dres, d);
  t.deepEqual(r.causes, []);
  t.deepEqual(r.unknownFields.sort(), [
    'metadata.lables',
    'spec.replicass',
    'spec.template.spec.containers[0].imagee',
    'spec.template.spec.containers[0].resources.limit',
  ]);
  const s = svc as KObject & { spec: Record<string, any> };
  s.spec.ports[0].targetport = 80;
  s.spec.selectors = { app: 'web' };
  const sres = byKind('v1', 'Service')!;
  applyDefaults(sres, s);
  t.deepEqual(validateObject(sres, s).unknownFields.sort(), ['spec.ports[0].targetport', 'spec.selectors']);
});

test('fields inside maps and free-form subtrees are never "unknown"', (t) => {
  const [, svc] = docs(KUBECTL_DRY_RUN);
  const res = byKind('v1', 'Service')!;
  svc.metadata.labels = { anything: 'goes', 'example.com/x': 'y' };
  svc.metadata.managedFields = [{ manager: 'kubectl', fieldsV1: { 'f:spec': { 'f:ports': {} } } }];
  applyDefaults(res, svc);
  t.deepEqual(validateObject(res, svc).unknownFields, []);
});

test('unknown fields become the strict-decoding 400 or warnings', (t) => {
  const res = byKind('apps/v1', 'Deployment')!;
  const err = unknownFieldsError(res, ['spec.replicass', 'spec.template.spec.containers[0].imagee']);
  t.is(err.code, 400);
  t.is(
    err.message,
    'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass", unknown field "spec.template.spec.containers[0].imagee"',
  );
  t.deepEqual(unknownFieldWarnings(['spec.replicass']), ['unknown field "spec.replicass"']);
});

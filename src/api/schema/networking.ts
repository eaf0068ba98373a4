// networking.k8s.io/v1 Ingress and IngressClass.

import { arr, enumOf, int, NET, obj, ref, root, str, strs, type Schema } from './builders.js';
import { PROTOCOLS } from './pod.js';

const n = (name: string, description?: string) => ref(NET + name, description);

export const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'] as const;

export function networkingSchemas(): Record<string, Schema> {
  return {
    [`${NET}Ingress`]: root(
      { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' },
      'Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a backend.',
      {
        spec: n('IngressSpec', 'Spec is the desired state of the Ingress.'),
        status: n('IngressStatus', 'Status is the current state of the Ingress.'),
      },
    ),
    [`${NET}IngressSpec`]: obj({
      ingressClassName: str('Name of the IngressClass cluster resource.'),
      defaultBackend: n('IngressBackend', 'The backend for requests that match no rule.'),
      tls: arr(n('IngressTLS'), { type: 'atomic', description: 'TLS configuration.' }),
      rules: arr(n('IngressRule'), { type: 'atomic', description: 'Host rules used to configure the Ingress.' }),
    }),
    [`${NET}IngressBackend`]: obj({
      service: n('IngressServiceBackend', 'A Service as a backend; mutually exclusive with resource.'),
      resource: obj(
        { apiGroup: str(), kind: str(), name: str() },
        { required: ['kind', 'name'], description: 'An ObjectRef to another Kubernetes resource; mutually exclusive with service.' },
      ),
    }),
    [`${NET}IngressServiceBackend`]: obj(
      {
        name: str('The referenced service; must be in the same namespace as the Ingress.'),
        port: n('ServiceBackendPort', 'Port of the referenced service.'),
      },
      { required: ['name'] },
    ),
    [`${NET}ServiceBackendPort`]: obj({
      name: str('The name of the port on the Service; mutually exclusive with number.'),
      number: int('The numerical port number; mutually exclusive with name.'),
    }),
    [`${NET}IngressTLS`]: obj({
      hosts: strs('Hosts included in the TLS certificate.'),
      secretName: str('Name of the secret used to terminate TLS traffic on port 443.'),
    }),
    [`${NET}IngressRule`]: obj({
      host: str('Fully qualified domain name of a network host, or a wildcard like *.foo.com.'),
      http: n('HTTPIngressRuleValue'),
    }),
    [`${NET}HTTPIngressRuleValue`]: obj(
      { paths: arr(n('HTTPIngressPath'), { type: 'atomic', description: 'A collection of paths that map requests to backends.' }) },
      { required: ['paths'] },
    ),
    [`${NET}HTTPIngressPath`]: obj(
      {
        path: str("Matched against the path of an incoming request; must begin with '/'."),
        pathType: enumOf(PATH_TYPES, 'How the path is matched: Exact, Prefix or ImplementationSpecific.'),
        backend: n('IngressBackend', 'The referenced service endpoint to which the traffic will be forwarded.'),
      },
      { required: ['pathType', 'backend'] },
    ),
    [`${NET}IngressStatus`]: obj({
      loadBalancer: obj({
        ingress: arr(
          obj({
            ip: str(),
            hostname: str(),
            ports: arr(obj({ port: int(), protocol: enumOf(PROTOCOLS), error: str() }, { required: ['port', 'protocol'] }), { type: 'atomic' }),
          }),
          { type: 'atomic' },
        ),
      }),
    }),

    [`${NET}IngressClass`]: root(
      { group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass' },
      'IngressClass represents the class of the Ingress, referenced by the Ingress Spec.',
      {
        spec: obj(
          {
            controller: str('The controller that should handle this class, a domain-prefixed path such as "kubelite.io/ingress-controller".'),
            parameters: obj(
              { apiGroup: str(), kind: str(), name: str(), scope: str(), namespace: str() },
              { required: ['kind', 'name'], description: 'A link to a custom resource containing additional configuration for the controller.' },
            ),
          },
          { description: 'Spec is the desired state of the IngressClass.' },
        ),
      },
    ),
  };
}

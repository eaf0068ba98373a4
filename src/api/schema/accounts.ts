// ServiceAccount (v1), RBAC (rbac.authorization.k8s.io/v1), and the review kinds of
// authorization.k8s.io/v1 and authentication.k8s.io/v1 (answered, never stored).

import { AUTHN, AUTHZ, bool, CORE, int64, META, obj, RBAC, ref, root, str, strs, time, arr, map, type Schema } from './builders.js';

const userExtra = map(strs(), 'Any additional information provided by the authenticator.');

function rbacRoot(kind: string, description: string, fields: Record<string, Schema>, required: string[] = []): Schema {
  return root({ group: 'rbac.authorization.k8s.io', version: 'v1', kind }, description, fields, required);
}

export function accountSchemas(): Record<string, Schema> {
  const userInfo = obj({
    username: str('The name that uniquely identifies this user among all active users.'),
    uid: str('A unique value that identifies this user across time.'),
    groups: strs('The names of groups this user is a part of.'),
    extra: userExtra,
  });
  return {
    [`${CORE}ServiceAccount`]: root({ group: '', version: 'v1', kind: 'ServiceAccount' }, 'ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets.', {
      secrets: arr(ref(`${CORE}ObjectReference`), { type: 'map', keys: ['name'], mergeKey: 'name', description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.' }),
      imagePullSecrets: arr(ref(`${CORE}LocalObjectReference`), { type: 'atomic', description: 'ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount.' }),
      automountServiceAccountToken: bool('AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted.'),
    }),

    [`${AUTHN}TokenRequest`]: root({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, 'TokenRequest requests a token for a given service account.', {
      spec: ref(`${AUTHN}TokenRequestSpec`, 'Spec holds information about the request being evaluated'),
      status: ref(`${AUTHN}TokenRequestStatus`, 'Status is filled in by the server and indicates whether the token can be authenticated.'),
    }, ['spec']),
    [`${AUTHN}TokenRequestSpec`]: obj({
      audiences: strs('Audiences are the intendend audiences of the token.'),
      expirationSeconds: int64('ExpirationSeconds is the requested duration of validity of the request.'),
      boundObjectRef: ref(`${AUTHN}BoundObjectReference`, 'BoundObjectRef is a reference to an object that the token will be bound to.'),
    }),
    [`${AUTHN}BoundObjectReference`]: obj({ kind: str('Kind of the referent. Valid kinds are \'Pod\' and \'Secret\'.'), apiVersion: str('API version of the referent.'), name: str('Name of the referent.'), uid: str('UID of the referent.') }),
    [`${AUTHN}TokenRequestStatus`]: obj({ token: str('Token is the opaque bearer token.'), expirationTimestamp: time('ExpirationTimestamp is the time of expiration of the returned token.') }, { required: ['token', 'expirationTimestamp'] }),
    [`${AUTHN}TokenReview`]: root({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview' }, 'TokenReview attempts to authenticate a token to a known user.', {
      spec: obj({ token: str('Token is the opaque bearer token.'), audiences: strs('Audiences is a list of the identifiers that the resource server presented with the token identifies as.') }, { description: 'Spec holds information about the request being evaluated' }),
      status: obj({ authenticated: bool(), user: userInfo, audiences: strs(), error: str() }, { description: 'Status is filled in by the server and indicates whether the request can be authenticated.' }),
    }, ['spec']),
    [`${AUTHN}SelfSubjectReview`]: root({ group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview' }, 'SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.', {
      status: obj({ userInfo }, { description: 'Status is filled in by the server with the user attributes.' }),
    }),

    [`${AUTHZ}SelfSubjectAccessReview`]: root({ group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview' }, 'SelfSubjectAccessReview checks whether or the current user can perform an action.', {
      spec: obj({ resourceAttributes: ref(`${AUTHZ}ResourceAttributes`), nonResourceAttributes: ref(`${AUTHZ}NonResourceAttributes`) }, { description: 'Spec holds information about the request being evaluated.' }),
      status: ref(`${AUTHZ}SubjectAccessReviewStatus`, 'Status is filled in by the server and indicates whether the request is allowed or not'),
    }, ['spec']),
    [`${AUTHZ}LocalSubjectAccessReview`]: root({ group: 'authorization.k8s.io', version: 'v1', kind: 'LocalSubjectAccessReview' }, 'LocalSubjectAccessReview checks whether or not a user or group can perform an action in a given namespace.', {
      spec: ref(`${AUTHZ}SubjectAccessReviewSpec`, 'Spec holds information about the request being evaluated.'),
      status: ref(`${AUTHZ}SubjectAccessReviewStatus`, 'Status is filled in by the server and indicates whether the request is allowed or not'),
    }, ['spec']),
    [`${AUTHZ}SubjectAccessReview`]: root({ group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview' }, 'SubjectAccessReview checks whether or not a user or group can perform an action.', {
      spec: ref(`${AUTHZ}SubjectAccessReviewSpec`, 'Spec holds information about the request being evaluated.'),
      status: ref(`${AUTHZ}SubjectAccessReviewStatus`, 'Status is filled in by the server and indicates whether the request is allowed or not'),
    }, ['spec']),
    [`${AUTHZ}SubjectAccessReviewSpec`]: obj({
      resourceAttributes: ref(`${AUTHZ}ResourceAttributes`),
      nonResourceAttributes: ref(`${AUTHZ}NonResourceAttributes`),
      user: str(),
      groups: strs(),
      extra: userExtra,
      uid: str(),
    }),
    [`${AUTHZ}ResourceAttributes`]: obj({
      namespace: str(), verb: str(), group: str(), version: str(), resource: str(), subresource: str(), name: str(),
      fieldSelector: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      labelSelector: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    }),
    [`${AUTHZ}NonResourceAttributes`]: obj({ path: str(), verb: str() }),
    [`${AUTHZ}SubjectAccessReviewStatus`]: obj({ allowed: bool(), denied: bool(), reason: str(), evaluationError: str() }, { required: ['allowed'] }),
    [`${AUTHZ}SelfSubjectRulesReview`]: root({ group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview' }, 'SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace.', {
      spec: obj({ namespace: str('Namespace to evaluate rules for.') }, { description: 'Spec holds information about the request being evaluated.' }),
      status: obj({
        resourceRules: arr(obj({ verbs: strs(), apiGroups: strs(), resources: strs(), resourceNames: strs() }), { type: 'atomic' }),
        nonResourceRules: arr(obj({ verbs: strs(), nonResourceURLs: strs() }), { type: 'atomic' }),
        incomplete: bool(),
        evaluationError: str(),
      }, { description: 'Status is filled in by the server and indicates the set of actions a user can perform.' }),
    }, ['spec']),

    [`${RBAC}PolicyRule`]: obj({
      verbs: strs('Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. \'*\' represents all verbs.'),
      apiGroups: strs('APIGroups is the name of the APIGroup that contains the resources.'),
      resources: strs('Resources is a list of resources this rule applies to. \'*\' represents all resources.'),
      resourceNames: strs('ResourceNames is an optional white list of names that the rule applies to.'),
      nonResourceURLs: strs('NonResourceURLs is a set of partial urls that a user should have access to.'),
    }, { required: ['verbs'] }),
    [`${RBAC}AggregationRule`]: obj({ clusterRoleSelectors: arr(ref(`${META}LabelSelector`), { type: 'atomic', description: 'ClusterRoleSelectors holds a list of selectors which will be used to find ClusterRoles and create the rules.' }) }),
    [`${RBAC}Subject`]: { ...obj({ kind: str('Kind of object being referenced: "User", "Group", or "ServiceAccount".'), apiGroup: str(), name: str('Name of the object being referenced.'), namespace: str('Namespace of the referenced object.') }, { required: ['kind', 'name'] }), 'x-kubernetes-map-type': 'atomic' },
    [`${RBAC}RoleRef`]: { ...obj({ apiGroup: str('APIGroup is the group for the resource being referenced'), kind: str('Kind is the type of resource being referenced'), name: str('Name is the name of resource being referenced') }, { required: ['apiGroup', 'kind', 'name'] }), 'x-kubernetes-map-type': 'atomic' },
    [`${RBAC}Role`]: rbacRoot('Role', 'Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.', {
      rules: arr(ref(`${RBAC}PolicyRule`), { type: 'atomic', description: 'Rules holds all the PolicyRules for this Role' }),
    }),
    [`${RBAC}ClusterRole`]: rbacRoot('ClusterRole', 'ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.', {
      rules: arr(ref(`${RBAC}PolicyRule`), { type: 'atomic', description: 'Rules holds all the PolicyRules for this ClusterRole' }),
      aggregationRule: ref(`${RBAC}AggregationRule`, 'AggregationRule is an optional field that describes how to build the Rules for this ClusterRole.'),
    }),
    [`${RBAC}RoleBinding`]: rbacRoot('RoleBinding', 'RoleBinding references a role, but does not contain it.', {
      subjects: arr(ref(`${RBAC}Subject`), { type: 'atomic', description: 'Subjects holds references to the objects the role applies to.' }),
      roleRef: ref(`${RBAC}RoleRef`, 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
    }, ['roleRef']),
    [`${RBAC}ClusterRoleBinding`]: rbacRoot('ClusterRoleBinding', 'ClusterRoleBinding references a ClusterRole, but not contain it.', {
      subjects: arr(ref(`${RBAC}Subject`), { type: 'atomic', description: 'Subjects holds references to the objects the role applies to.' }),
      roleRef: ref(`${RBAC}RoleRef`, 'RoleRef can only reference a ClusterRole in the global namespace.'),
    }, ['roleRef']),
  };
}


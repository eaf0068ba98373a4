// Ingress paths at admission (issue 17 #9): absolute, Kubernetes' sequence/suffix rules for Exact and
// Prefix, and no character a proxy's map or runtime-API syntax could misread, for every path type.

import test from 'ava';
import { R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { applyDefaults, validateObject } from '../../../../src/api/validation/index.js';

function causesFor(path: string, pathType = 'Prefix') {
  const obj = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'default' },
    spec: { rules: [{ host: 'web.test', http: { paths: [{ path, pathType, backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  } as unknown as KObject;
  applyDefaults(R.ingresses, obj);
  return validateObject(R.ingresses, obj).causes.filter((c) => c.field === 'spec.rules[0].http.paths[0].path');
}

test('hostile paths are refused for every path type, naming the field and the allowed characters', (t) => {
  const hostile = ['/a b', '/a\tb', '/a\nb', '/a\r\nset map x y', '/a;del map /x', '/a#b', '/a"b', "/a'b", '/a\\b', '/a<<', '/a>b', '/é', '/a\u0000', '/`id`'];
  for (const pathType of ['Exact', 'Prefix', 'ImplementationSpecific']) {
    for (const p of hostile) {
      const causes = causesFor(p, pathType);
      t.true(causes.length > 0, `${pathType} ${JSON.stringify(p)} accepted`);
      t.true(causes.some((c) => c.reason === 'FieldValueInvalid' && /must contain only the characters .*no whitespace, control characters, quotes or ;#\\<>/.test(c.message ?? '')), JSON.stringify(causes));
    }
  }
});

test('Kubernetes\' own path rules and messages still apply', (t) => {
  t.deepEqual(causesFor('api').map((c) => c.message), ['Invalid value: "api": must be an absolute path']);
  t.deepEqual(causesFor('/a//b', 'Exact').map((c) => c.message), ["Invalid value: \"/a//b\": must not contain '//'"]);
  t.deepEqual(causesFor('/a/..', 'Prefix').map((c) => c.message), ["Invalid value: \"/a/..\": cannot end with '/..'"]);
  t.deepEqual(causesFor('/a%2Fb', 'Prefix').map((c) => c.message), ["Invalid value: \"/a%2Fb\": must not contain '%2F'"]);
});

test('ordinary paths are accepted', (t) => {
  for (const p of ['/', '/api', '/api/v1/', '/a-b_c.d~e', '/users/%C3%A9', '/x:y@z', "/a!$&()*+,=", '/static/{id}', '/(.*)|^x$']) {
    t.deepEqual(causesFor(p), [], p);
  }
});

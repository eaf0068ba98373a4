import test from 'ava';
import { isStatusError } from '../../../../src/api/errors.js';
import { checkTokenRequest } from '../../../../src/server/auth/token-request.js';

const AUD = ['https://kubernetes.default.svc.cluster.local'];

test('defaults: the API\'s audiences and an hour', (t) => {
  t.deepEqual(checkTokenRequest({}, 'bot', AUD).spec, { audiences: AUD, expirationSeconds: 3600, boundObjectRef: null });
  t.deepEqual(checkTokenRequest({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['vault'], expirationSeconds: 600 } }, 'bot', AUD).spec.audiences, ['vault']);
});

test('bad input is a 422 naming the field, or a 400', (t) => {
  const invalid = (body: unknown, field: string, msg: RegExp) => {
    const err = t.throws(() => checkTokenRequest(body, 'bot', AUD));
    t.true(isStatusError(err, 'Invalid'), String(err));
    t.is((err as unknown as { status: { details: { causes: { field: string }[] } } }).status.details.causes[0].field, field);
    t.regex(err!.message, msg);
  };
  invalid({ spec: { expirationSeconds: 599 } }, 'spec.expirationSeconds', /TokenRequest\.authentication\.k8s\.io "bot" is invalid: spec\.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes/);
  invalid({ spec: { expirationSeconds: 2 ** 33 } }, 'spec.expirationSeconds', /larger than 2\^32/);
  invalid({ spec: { expirationSeconds: 1.5 } }, 'spec.expirationSeconds', /must be an integer/);
  invalid({ spec: { boundObjectRef: { kind: 'Deployment', name: 'x' } } }, 'spec.boundObjectRef.kind', /supported values: "Pod", "Secret", "Node"/);
  invalid({ spec: { boundObjectRef: { kind: 'Pod' } } }, 'spec.boundObjectRef.name', /Required value/);
  t.true(isStatusError(t.throws(() => checkTokenRequest('x', 'bot', AUD)), 'BadRequest'));
  t.true(isStatusError(t.throws(() => checkTokenRequest({ kind: 'Pod' }, 'bot', AUD)), 'BadRequest'));
});

import test from 'ava';
import { applyJsonPatch, applyPatch, parsePointer } from '../../../../src/api/patch/index.js';
import { StatusError } from '../../../../src/api/errors.js';
import { R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';

// RFC 6902 Appendix A (A.13, a document with a duplicate "op" member, cannot exist once parsed).
const ok: [string, unknown, unknown[], unknown][] = [
  ['A.1 adding an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
  ['A.2 adding an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
  ['A.3 removing an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
  ['A.4 removing an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
  ['A.5 replacing a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
  [
    'A.6 moving a value',
    { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
    [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
    { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
  ],
  ['A.7 moving an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
  [
    'A.8 testing a value: success',
    { baz: 'qux', foo: ['a', 2, 'c'] },
    [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }],
    { baz: 'qux', foo: ['a', 2, 'c'] },
  ],
  ['A.10 adding a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
  ['A.11 ignoring unrecognized elements', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], { foo: 'bar', baz: 'qux' }],
  ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
  ['A.16 adding an array value', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
  ['copy', { a: { b: [1] } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: [1] }, c: { b: [1] } }],
  ['add to the root replaces the document', { a: 1 }, [{ op: 'add', path: '', value: { b: 2 } }], { b: 2 }],
  ['add replaces an existing member', { a: 1 }, [{ op: 'add', path: '/a', value: 2 }], { a: 2 }],
  ['add at the end index', { a: [1] }, [{ op: 'add', path: '/a/1', value: 2 }], { a: [1, 2] }],
  ['~1 in a label key', { metadata: { labels: { 'app.kubernetes.io/name': 'x' } } }, [{ op: 'remove', path: '/metadata/labels/app.kubernetes.io~1name' }], { metadata: { labels: {} } }],
  ['test compares objects regardless of key order', { a: { x: 1, y: [1, { z: 2 }] } }, [{ op: 'test', path: '/a', value: { y: [1, { z: 2 }], x: 1 } }], { a: { x: 1, y: [1, { z: 2 }] } }],
  ['replace creates a missing object member, as the Kubernetes API server allows', { metadata: { labels: {} } }, [{ op: 'replace', path: '/metadata/labels/x', value: 'y' }], { metadata: { labels: { x: 'y' } } }],
  ['move to the same path is a no-op', { a: 1 }, [{ op: 'move', from: '/a', path: '/a' }], { a: 1 }],
  ['operations apply in order', { n: 1 }, [{ op: 'replace', path: '/n', value: 2 }, { op: 'test', path: '/n', value: 2 }, { op: 'copy', from: '/n', path: '/m' }], { n: 2, m: 2 }],
];

for (const [name, doc, ops, want] of ok) {
  test(`RFC 6902: ${name}`, (t) => {
    t.deepEqual(applyJsonPatch(doc, ops), want);
  });
}

// [name, doc, ops, status code, message fragment]
const failing: [string, unknown, unknown, number, RegExp][] = [
  ['A.9 testing a value: error', { baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], 422, /operation 0 \(test "\/baz"\) failed: value is "qux", expected "bar"/],
  ['A.12 adding to a nonexistent target', { foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }], 422, /operation 0 \(add "\/baz\/bat"\).*"\/baz" does not exist/],
  ['A.15 comparing strings and numbers', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }], 422, /value is 10, expected "10"/],
  ['the failing op is named by its index', { a: 1 }, [{ op: 'test', path: '/a', value: 1 }, { op: 'remove', path: '/nope' }], 422, /operation 1 \(remove "\/nope"\) failed: path does not exist/],
  ['replace of a missing array element', { a: [1] }, [{ op: 'replace', path: '/a/1', value: 2 }], 422, /out of range/],
  ['replace under a missing parent', { a: 1 }, [{ op: 'replace', path: '/b/c', value: 2 }], 422, /"\/b" does not exist/],
  ['array index out of range', { a: [1] }, [{ op: 'add', path: '/a/5', value: 2 }], 422, /out of range/],
  ['array index with leading zero', { a: [1, 2] }, [{ op: 'remove', path: '/a/01' }], 422, /not a valid array index/],
  ['"-" is only for adding', { a: [1] }, [{ op: 'remove', path: '/a/-' }], 422, /not a valid array index/],
  ['move into its own child', { a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], 422, /own child/],
  ['copy from a missing path', { a: 1 }, [{ op: 'copy', from: '/x', path: '/b' }], 422, /from "\/x"/],
  ['not a list', { a: 1 }, { op: 'add', path: '/a', value: 1 }, 400, /must be a JSON array/],
  ['op not an object', { a: 1 }, ['add'], 400, /operation 0 must be an object/],
  ['unknown op', { a: 1 }, [{ op: 'frob', path: '/a' }], 400, /unknown "op" "frob"/],
  ['missing op', { a: 1 }, [{ path: '/a' }], 400, /no "op"/],
  ['missing path', { a: 1 }, [{ op: 'remove' }], 400, /no string "path"/],
  ['missing value', { a: 1 }, [{ op: 'add', path: '/b' }], 400, /no "value"/],
  ['missing from', { a: 1 }, [{ op: 'move', path: '/b' }], 400, /no string "from"/],
  ['pointer without a leading slash', { a: 1 }, [{ op: 'remove', path: 'a' }], 400, /must be empty or start with "\/"/],
  ['bad escape', { a: 1 }, [{ op: 'remove', path: '/a~2' }], 400, /invalid escape/],
];

for (const [name, doc, ops, code, message] of failing) {
  test(`RFC 6902 error: ${name}`, (t) => {
    const err = t.throws(() => applyJsonPatch(doc, ops), { instanceOf: StatusError }) as StatusError;
    t.is(err.code, code);
    t.is(err.reason, code === 422 ? 'Invalid' : 'BadRequest');
    t.regex(err.message, message);
  });
}

test('a failing patch leaves the input untouched (all or nothing)', (t) => {
  const doc = { a: [1, 2], b: { c: 1 } };
  const before = JSON.stringify(doc);
  t.throws(() => applyJsonPatch(doc, [{ op: 'remove', path: '/a/0' }, { op: 'add', path: '/b/c', value: 5 }, { op: 'test', path: '/b/c', value: 1 }]));
  t.is(JSON.stringify(doc), before);
  const ok = applyJsonPatch(doc, [{ op: 'remove', path: '/a/0' }]);
  t.deepEqual(ok, { a: [2], b: { c: 1 } });
  t.is(JSON.stringify(doc), before);
});

test('a 422 from a failed test carries the path as its cause field', (t) => {
  const err = t.throws(() => applyJsonPatch({ spec: { replicas: 2 } }, [{ op: 'test', path: '/spec/replicas', value: 3 }])) as StatusError;
  t.is(err.status.details?.causes?.[0]?.field, '/spec/replicas');
});

test('parsePointer unescapes ~1 before ~0 (RFC 6901)', (t) => {
  t.deepEqual(parsePointer(''), []);
  t.deepEqual(parsePointer('/'), ['']);
  t.deepEqual(parsePointer('/a~1b/m~0n/~01'), ['a/b', 'm~n', '~1']);
});

test('kubectl patch --type json on a Deployment through applyPatch', (t) => {
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { a: '1' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } } as KObject;
  const out = applyPatch(R.deployments, deploy, 'json', [
    { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'y' },
    { op: 'add', path: '/metadata/labels/b', value: '2' },
  ]);
  t.is((out.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0].image, 'y');
  t.deepEqual(out.metadata.labels, { a: '1', b: '2' });
  t.is((deploy.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0].image, 'x');
});

test('applyPatch refuses a JSON patch that turns the object into a non-object', (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } as KObject;
  const err = t.throws(() => applyPatch(R.pods, pod, 'json', [{ op: 'replace', path: '', value: 'x' }])) as StatusError;
  t.is(err.code, 400);
});

import test from 'ava';
import { applyMergePatch, applyPatch } from '../../../../src/api/patch/index.js';
import { R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';

// RFC 7386 Appendix A, every example: [target, patch, result].
const rfc7386: [unknown, unknown, unknown][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

for (const [i, [target, patch, want]] of rfc7386.entries()) {
  test(`RFC 7386 appendix A example ${i + 1}`, (t) => {
    t.deepEqual(applyMergePatch(target, patch), want);
  });
}

test('the RFC 7386 section 3 example', (t) => {
  const target = { title: 'Goodbye!', author: { givenName: 'John', familyName: 'Doe' }, tags: ['example', 'sample'], content: 'This will be unchanged' };
  const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] };
  t.deepEqual(applyMergePatch(target, patch), {
    title: 'Hello!',
    author: { givenName: 'John' },
    tags: ['example'],
    content: 'This will be unchanged',
    phoneNumber: '+01-123-456-7890',
  });
});

test('inputs are never mutated and the result shares nothing with them', (t) => {
  const target = { metadata: { labels: { a: '1' } }, spec: { list: [{ x: 1 }] } };
  const patch = { metadata: { labels: { a: null, b: '2' } }, spec: { list: [{ y: 2 }] } };
  const before = JSON.stringify([target, patch]);
  const out = applyMergePatch(target, patch) as { spec: { list: { y?: number }[] } };
  t.is(JSON.stringify([target, patch]), before);
  out.spec.list[0].y = 99;
  t.is(patch.spec.list[0].y, 2);
});

test('a "__proto__" key is stored as data, not as the prototype', (t) => {
  const patch = JSON.parse('{"data":{"__proto__":{"polluted":"yes"}}}');
  const out = applyMergePatch({ data: {} }, patch) as { data: Record<string, unknown> };
  t.true(Object.prototype.hasOwnProperty.call(out.data, '__proto__'));
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.is(Object.getPrototypeOf(out.data), Object.prototype);
});

test('kubectl scale: a merge patch of spec.replicas', (t) => {
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } } as KObject;
  const out = applyPatch(R.deployments, deploy, 'merge', { spec: { replicas: 3 } });
  t.is((out.spec as { replicas: number }).replicas, 3);
  t.deepEqual((out.spec as { template: unknown }).template, (deploy.spec as { template: unknown }).template);
});

test('applyPatch rejects a merge patch that is not an object (it would replace the whole object)', (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } as KObject;
  const err = t.throws(() => applyPatch(R.pods, pod, 'merge', ['x']));
  t.is((err as unknown as { code: number }).code, 400);
});

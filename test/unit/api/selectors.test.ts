import test from 'ava';
import { isStatusError } from '../../../src/api/errors.js';
import { R } from '../../../src/api/resources.js';
import {
  labelSelectorMatcher,
  labelSelectorToString,
  mapSelectorMatcher,
  parseFieldSelector,
  parseLabelSelector,
  parseLabelSelectorRequirements,
  supportedFieldSelectors,
} from '../../../src/api/selectors.js';
import type { KObject } from '../../../src/api/types.js';

const web = { app: 'web', tier: 'frontend', version: '3' };
const db = { app: 'db', tier: 'backend' };
const bare = {};

const cases: [string, [Record<string, string> | undefined, boolean][]][] = [
  ['', [[web, true], [bare, true], [undefined, true]]],
  ['app=web', [[web, true], [db, false], [bare, false]]],
  ['app==web', [[web, true], [db, false]]],
  ['app!=web', [[web, false], [db, true], [bare, true]]],
  ['app in (web,db)', [[web, true], [db, true], [bare, false]]],
  ['app in (web, db )', [[web, true], [db, true]]],
  ['app notin (web)', [[web, false], [db, true], [bare, true]]],
  ['tier', [[web, true], [db, true], [bare, false]]],
  ['!tier', [[web, false], [bare, true], [undefined, true]]],
  ['app=web,tier=frontend', [[web, true], [{ app: 'web', tier: 'x' }, false]]],
  ['  app = web ,  tier  ', [[web, true], [db, false]]],
  ['version>2', [[web, true], [{ version: '1' }, false], [bare, false]]],
  ['version<2', [[web, false], [{ version: '1' }, true]]],
  ['app=', [[{ app: '' }, true], [web, false]]],
  ['app=web,', [[web, true]]],
  ['example.com/role in (a,b)', [[{ 'example.com/role': 'b' }, true], [{ 'example.com/role': 'c' }, false]]],
];

for (const [sel, expectations] of cases) {
  test(`parseLabelSelector(${JSON.stringify(sel)})`, (t) => {
    const m = parseLabelSelector(sel);
    for (const [labels, want] of expectations) t.is(m(labels), want, JSON.stringify(labels));
  });
}

const bad = ['app in web', 'app in (web', '=web', 'app web', 'app in ()', 'app=web=db', '!', 'bad key=x', 'app=bad value!', 'a,,b', 'version>x', '(a)'];
for (const sel of bad) {
  test(`parseLabelSelector rejects ${JSON.stringify(sel)} with a 400`, (t) => {
    const e = t.throws(() => parseLabelSelector(sel));
    t.true(isStatusError(e, 'BadRequest'), String(e));
    t.is((e as { code?: number }).code, 400);
    t.true(e!.message.startsWith('unable to parse requirement: '), e!.message);
  });
}

test('invalid keys and values are reported as Kubernetes words them', (t) => {
  t.throws(() => parseLabelSelector('app=bad_'), {
    message: /^unable to parse requirement: values\[0\]\[app\]: Invalid value: "bad_": a valid label must be an empty string or consist of alphanumeric characters/,
  });
  t.throws(() => parseLabelSelector('tier in (a,-b)'), { message: /^unable to parse requirement: values\[1\]\[tier\]: Invalid value: "-b": / });
  t.throws(() => parseLabelSelector('-bad=x'), { message: /^unable to parse requirement: key: Invalid value: "-bad": name part must consist of/ });
  t.throws(() => parseLabelSelector('app web'), { message: "unable to parse requirement: found 'web', expected: '=', '!=', '==', 'in', 'notin'" });
});

test('parseLabelSelectorRequirements gives the parsed terms', (t) => {
  t.deepEqual(parseLabelSelectorRequirements('a in (y,x,x), !b, c!=d'), [
    { key: 'a', operator: 'in', values: ['y', 'x'] },
    { key: 'b', operator: '!', values: [] },
    { key: 'c', operator: '!=', values: ['d'] },
  ]);
});

test('labelSelectorMatcher: matchLabels AND matchExpressions', (t) => {
  const m = labelSelectorMatcher({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['frontend', 'edge'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'version', operator: 'Exists' },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
    ],
  });
  t.true(m(web));
  t.false(m({ ...web, canary: 'true' }));
  t.false(m({ ...web, tier: 'backend' }));
  t.false(m({ app: 'web', tier: 'frontend' }));
  t.false(m({ ...web, zone: 'b' }));
  t.true(m({ ...web, zone: 'a' }));
  t.false(m(undefined));
});

test('labelSelectorMatcher: empty or undefined matches everything; unknown operators nothing', (t) => {
  t.true(labelSelectorMatcher(undefined)(db));
  t.true(labelSelectorMatcher({})(bare));
  t.true(labelSelectorMatcher({ matchLabels: {}, matchExpressions: [] })(undefined));
  t.false(labelSelectorMatcher({ matchExpressions: [{ key: 'a', operator: 'Bogus' as 'In' }] })(web));
});

test('mapSelectorMatcher', (t) => {
  t.true(mapSelectorMatcher({ app: 'web' })(web));
  t.false(mapSelectorMatcher({ app: 'web' })(db));
  t.false(mapSelectorMatcher({ app: 'web' })(undefined));
  t.false(mapSelectorMatcher({ missing: '' })(bare));
  t.true(mapSelectorMatcher({ missing: '' })({ missing: '' }));
  t.true(mapSelectorMatcher({})(bare));
});

test('labelSelectorToString: canonical form, sorted by key', (t) => {
  t.is(labelSelectorToString({ matchLabels: { tier: 'fe', app: 'web' } }), 'app=web,tier=fe');
  t.is(
    labelSelectorToString({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'x', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    }),
    'app=web,!canary,env notin (prod),tier in (a,b),x',
  );
  t.is(labelSelectorToString({}), '');
  // What the string says is what it selects.
  const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['frontend'] }] };
  t.is(parseLabelSelector(labelSelectorToString(sel))(web), labelSelectorMatcher(sel)(web));
});

function pod(name: string, ns: string, extra: Record<string, unknown> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, ...extra };
}

test('parseFieldSelector: metadata fields on every kind', (t) => {
  const a = pod('a', 'default');
  const b = pod('b', 'kube-system');
  t.true(parseFieldSelector(R.pods, 'metadata.name=a')(a));
  t.false(parseFieldSelector(R.pods, 'metadata.name=a')(b));
  t.true(parseFieldSelector(R.pods, 'metadata.name==a')(a));
  t.true(parseFieldSelector(R.pods, 'metadata.name!=a')(b));
  t.true(parseFieldSelector(R.pods, 'metadata.namespace=kube-system,metadata.name=b')(b));
  t.false(parseFieldSelector(R.pods, 'metadata.namespace=kube-system,metadata.name=a')(b));
  t.true(parseFieldSelector(R.deployments, '')(a));
  t.true(parseFieldSelector(R.configmaps, 'metadata.name=a')(a));
});

test('parseFieldSelector: Pod fields; missing values compare as ""', (t) => {
  const scheduled = pod('a', 'default', { spec: { nodeName: 'node-1', restartPolicy: 'Always', hostNetwork: true }, status: { phase: 'Running', podIP: '10.244.0.5' } });
  const pending = pod('b', 'default', { spec: {} });
  t.true(parseFieldSelector(R.pods, 'spec.nodeName=node-1')(scheduled));
  t.true(parseFieldSelector(R.pods, 'spec.nodeName=')(pending));
  t.false(parseFieldSelector(R.pods, 'spec.nodeName!=')(pending));
  t.true(parseFieldSelector(R.pods, 'status.phase!=Succeeded,status.phase!=Failed')(scheduled));
  t.true(parseFieldSelector(R.pods, 'status.podIP=10.244.0.5')(scheduled));
  t.true(parseFieldSelector(R.pods, 'spec.hostNetwork=true')(scheduled));
  t.true(parseFieldSelector(R.pods, 'spec.hostNetwork=false')(pending));
});

test('parseFieldSelector: Event, Secret, Namespace, Node fields', (t) => {
  const ev: KObject = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'u1' },
    reason: 'Scheduled',
    type: 'Normal',
    source: { component: 'default-scheduler' },
  };
  t.true(parseFieldSelector(R.events, 'involvedObject.kind=Pod,involvedObject.name=web-1,involvedObject.uid=u1')(ev));
  t.true(parseFieldSelector(R.events, 'reason=Scheduled,type=Normal,source=default-scheduler')(ev));
  t.false(parseFieldSelector(R.events, 'involvedObject.fieldPath=spec.containers{web}')(ev));
  const secret: KObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'kubernetes.io/tls' };
  t.true(parseFieldSelector(R.secrets, 'type=kubernetes.io/tls')(secret));
  const ns: KObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, status: { phase: 'Active' } };
  t.true(parseFieldSelector(R.namespaces, 'status.phase=Active')(ns));
  const node: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: {} };
  t.true(parseFieldSelector(R.nodes, 'spec.unschedulable=false')(node));
  t.false(parseFieldSelector(R.nodes, 'spec.unschedulable=true')(node));
});

test('parseFieldSelector: escapes in values', (t) => {
  const o = pod('a,b=c', 'default');
  t.true(parseFieldSelector(R.pods, 'metadata.name=a\\,b\\=c')(o));
  t.throws(() => parseFieldSelector(R.pods, 'metadata.name=a\\x'), { message: /invalid escape sequence/ });
});

test('parseFieldSelector: unsupported fields and bad syntax are 400s', (t) => {
  const e = t.throws(() => parseFieldSelector(R.pods, 'spec.foo=bar'));
  t.true(isStatusError(e, 'BadRequest'));
  t.is(e!.message, 'field label not supported: spec.foo');
  t.throws(() => parseFieldSelector(R.deployments, 'status.phase=Running'), { message: 'field label not supported: status.phase' });
  t.throws(() => parseFieldSelector(R.pods, 'metadata.name'), { message: /invalid field selector/ });
  t.true(supportedFieldSelectors(R.pods).includes('spec.nodeName'));
  t.deepEqual(supportedFieldSelectors(R.configmaps), ['metadata.name', 'metadata.namespace']);
});

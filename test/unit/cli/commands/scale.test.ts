import test from 'ava';
import { R } from '../../../../src/api/resources.js';
import { parseTargets } from '../../../../cli/commands/scale.js';
import { parseDuration } from '../../../../cli/commands/rollout.js';

test('scale/rollout targets take kubectl\'s forms', (t) => {
  t.deepEqual(parseTargets(['deploy/web']), [{ res: R.deployments, name: 'web' }]);
  t.deepEqual(parseTargets(['deployment', 'a', 'b']), [{ res: R.deployments, name: 'a' }, { res: R.deployments, name: 'b' }]);
  t.deepEqual(parseTargets(['rs/x', 'deployments.apps/y']), [{ res: R.replicasets, name: 'x' }, { res: R.deployments, name: 'y' }]);
  t.throws(() => parseTargets(['deploy']), { message: 'error: you must specify the name of the deploy to act on' });
  t.throws(() => parseTargets(['deploy', 'rs/x']), { message: /no need to specify a resource type as a separate argument/ });
  t.throws(() => parseTargets([]), { message: /you must specify the type of resource/ });
  t.throws(() => parseTargets(['widgets/x']), { message: /doesn't have a resource type "widgets"/ });
});

test('--timeout takes Go durations', (t) => {
  t.is(parseDuration('0'), 0);
  t.is(parseDuration('45'), 45_000);
  t.is(parseDuration('90s'), 90_000);
  t.is(parseDuration('1m30s'), 90_000);
  t.is(parseDuration('1.5h'), 5_400_000);
  t.is(parseDuration('250ms'), 250);
  t.throws(() => parseDuration('soon'), { message: /invalid duration "soon"/ });
});

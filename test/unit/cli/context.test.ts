// The CLI checks names and namespaces given on the command line before anything is sent.

import test from 'ava';
import { R } from '../../../src/api/resources.js';
import { checkName, checkNamespace, CliError } from '../../../cli/context.js';

test('a namespace that is not an RFC 1123 label is an error naming the rule', (t) => {
  t.is(checkNamespace('kube-system'), 'kube-system');
  for (const ns of ['$(touch pwned)', 'Default', 'a/b', '..', '', 'x'.repeat(64), 'a;b']) {
    const err = t.throws(() => checkNamespace(ns));
    t.true(err instanceof CliError);
    t.regex(err!.message, /^error: invalid namespace .*(RFC 1123 label|must be no more than 63)/);
  }
});

test('names: RFC 1123 subdomains (labels for Namespaces)', (t) => {
  t.is(checkName(R.pods, 'web-1.x'), 'web-1.x');
  t.throws(() => checkName(R.pods, '$(touch pwned)'), { message: /invalid pod name "\$\(touch pwned\)": .*RFC 1123 subdomain/ });
  t.throws(() => checkName(R.pods, '../../etc'), { message: /RFC 1123 subdomain/ });
  t.throws(() => checkName(R.namespaces, "a.b"), { message: /invalid namespace name "a\.b": must not contain dots/ });
});

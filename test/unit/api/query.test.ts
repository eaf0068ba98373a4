// Query parameters as the API server reads them: Go's strconv.ParseBool for booleans, decimal
// integers, resourceVersions; a bad value is a 400 naming the parameter.

import test from 'ava';
import { checkQuery, checkResourceVersionParam, parseBoolParam, parseIntParam } from '../../../src/api/query.js';
import { isStatusError, type StatusError } from '../../../src/api/errors.js';

function badRequest(t: import('ava').ExecutionContext, fn: () => unknown, mentions: string): void {
  const err = t.throws(fn) as StatusError;
  t.true(isStatusError(err, 'BadRequest'), String(err));
  t.is(err.status.code, 400);
  t.true(err.message.includes(mentions), err.message);
}

test('booleans: every spelling strconv.ParseBool accepts', (t) => {
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) t.true(parseBoolParam('watch', v), v);
  for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) t.false(parseBoolParam('watch', v), v);
  t.is(parseBoolParam('watch', undefined), undefined);
  // A bare `?watch` is present, as the API server reads it.
  t.true(parseBoolParam('watch', ''));
});

test('booleans: anything else is a 400 naming the parameter', (t) => {
  for (const v of ['yes', 'no', 'tRUE', 'on', '2', ' true', 'true ']) badRequest(t, () => parseBoolParam('allowWatchBookmarks', v), 'allowWatchBookmarks');
});

test('integers: decimal within range; garbage, fractions and overflow are a 400 naming the parameter', (t) => {
  t.is(parseIntParam('timeoutSeconds', '30'), 30);
  t.is(parseIntParam('timeoutSeconds', '0'), 0);
  t.is(parseIntParam('timeoutSeconds', undefined), undefined);
  t.is(parseIntParam('timeoutSeconds', ''), undefined);
  for (const v of ['abc', '1.5', '1e3', '-1', '0x10', '99999999999999999999', String(2 ** 31)]) badRequest(t, () => parseIntParam('timeoutSeconds', v), 'timeoutSeconds');
  badRequest(t, () => parseIntParam('sinceSeconds', '0', 1), 'sinceSeconds');
});

test('resourceVersion: empty or a decimal integer; anything else is "Invalid value"', (t) => {
  t.notThrows(() => checkResourceVersionParam(undefined));
  t.notThrows(() => checkResourceVersionParam(''));
  t.notThrows(() => checkResourceVersionParam('0'));
  t.notThrows(() => checkResourceVersionParam('12345'));
  for (const v of ['abc', '-1', '01', '1.0', '1; drop', '99999999999999999999']) badRequest(t, () => checkResourceVersionParam(v), 'Invalid value');
});

test('checkQuery looks at every known parameter, first value of repeated ones', (t) => {
  t.notThrows(() => checkQuery({ watch: 'True', timeoutSeconds: '5', resourceVersion: '10', labelSelector: 'a=b', follow: ['1', 'x'] }));
  badRequest(t, () => checkQuery({ follow: 'x' }), 'follow');
  badRequest(t, () => checkQuery({ timeoutSeconds: 'soon' }), 'timeoutSeconds');
  badRequest(t, () => checkQuery({ gracePeriodSeconds: '-5' }), 'gracePeriodSeconds');
  badRequest(t, () => checkQuery({ resourceVersion: 'garbage' }), 'resourceVersion');
});

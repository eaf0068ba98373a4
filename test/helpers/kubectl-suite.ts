// The files that drive the real kubectl: their tests run when a kubectl is installed, and otherwise the
// file says so loudly and skips (issue #6 allows exactly this; .ci/run installs kubectl, so CI runs them).

import test from 'ava';
import { findKubectl } from './kubectl.js';

/** Registers `suite(kubectl)`, or one loud skip naming `what` when no kubectl is on the PATH. */
export function withKubectl(what: string, suite: (bin: string) => void): void {
  const bin = findKubectl();
  if (bin) {
    suite(bin);
    return;
  }
  process.stderr.write(`\n*** ${what} tests SKIPPED: no kubectl on the PATH (.ci/run installs one) ***\n\n`);
  test.skip(`${what} — SKIPPED: kubectl is not installed`, () => {});
}

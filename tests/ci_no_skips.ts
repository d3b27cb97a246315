/**
 * A Vitest reporter for CI: a skipped test there is a failure. Tests skip themselves when
 * something they need is missing (QEMU, xenstore-utils, a guest image, root for a network
 * namespace); .ci/run installs all of it and builds every image, so in CI a skip can only
 * mean something broke and a test quietly stopped testing.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class CiNoSkips implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'skipped') skipped.push(`${m.moduleId.replace(process.cwd() + '/', '')} > ${t.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    process.stderr.write(`\nCI: ${skipped.length} test(s) skipped; in CI every test must run:\n` +
      skipped.map((s) => `  - ${s}\n`).join(''));
    process.exitCode = 1;
  }
}

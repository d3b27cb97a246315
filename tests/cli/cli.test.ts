/** The CLI entry point as users run it: `npx tsxen` is bin/tsxen.mjs. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/tsxen.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('tsxen CLI', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = run('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`tsxen ${pkg.version}`);
  });

  it('--help lists the commands', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/usage: tsxen <command>/);
    expect(r.stdout).toMatch(/\bdemo\b/);
  });

  it('an unknown command fails with a message naming it', () => {
    const r = run('frobnicate');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

/**
 * `tsxen bare` end to end: the CLI boots the hello kernel with COM1 on stdout and exits with
 * QEMU's isa-debug-exit status; bad input gets a message and status 2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/tsxen.mjs', import.meta.url));
const HELLO = fileURLToPath(new URL('../../guests/build/bare-hello.elf', import.meta.url));

function tsxen(...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'bare', ...args], { encoding: 'latin1', timeout: 120_000 });
}

describe('tsxen bare', () => {
  it.skipIf(!existsSync(HELLO))('runs the hello kernel: stdout is COM1, status is (0 << 1) | 1', () => {
    const r = tsxen('--kernel', HELLO, '--memory', '16');
    expect(r.stdout).toContain('hello from a bare-metal tsxen guest');
    expect(r.stdout).toContain('Test result: SUCCESS');
    expect(r.status).toBe(1);
  });

  it.skipIf(!existsSync(HELLO))('stops at --max-instructions with status 4', () => {
    const r = tsxen('--kernel', HELLO, '--max-instructions', '1000', '--clock', 'virtual');
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/stopped after \d+ instructions/);
  });

  it('explains bad input with status 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsxen-bare-'));
    const junk = join(dir, 'junk.elf');
    writeFileSync(junk, Buffer.alloc(64, 0x41));
    const r = tsxen('--kernel', junk);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no Multiboot header/);
    const n = tsxen('--kernel', join(dir, 'missing.elf'));
    expect([n.status, /cannot read kernel/.test(n.stderr)]).toEqual([2, true]);
    const m = tsxen();
    expect([m.status, /--kernel .* is required/.test(m.stderr)]).toEqual([2, true]);
    const o = tsxen('--kernel', junk, '--memory', 'lots');
    rmSync(dir, { recursive: true, force: true });
    expect([o.status, /--memory "lots"/.test(o.stderr)]).toEqual([2, true]);
  });
});

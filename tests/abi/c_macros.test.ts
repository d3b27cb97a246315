/**
 * The C side of the ABI at run time: guests/tests/abi/abi_sanity.c (every generated header,
 * -Werror) runs on qemu-system-i386 as a bare Multiboot kernel, drives a blkif ring through
 * init, push/notify, final checks, a full ring across the 2^32 wrap and a hostile req_prod,
 * and prints values this test recomputes with the TypeScript ABI (notify rule, CR3 packing,
 * struct sizes).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ringNeedsNotify } from '../../src/abi/io/ring.ts';
import { xen_pfn_to_cr3 } from '../../src/abi/arch_x86_32.ts';
import { SIZEOF_SHARED_INFO, SIZEOF_START_INFO } from '../../src/abi/xen.ts';
import { SIZEOF_VCPU_GUEST_CONTEXT } from '../../src/abi/arch_x86_32.ts';
import { SIZEOF_BLKIF_REQUEST } from '../../src/abi/io/blkif.ts';
import { qemuUnavailable, runQemu, type RunResult } from '../cpu_kernels/qemu.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));

describe.skipIf(qemuUnavailable() !== null)('ABI C macros on bare metal (abi-sanity kernel)', () => {
  let run: RunResult;
  let vals: string[][];
  beforeAll(async () => {
    execFileSync('make', ['-s', '-C', GUESTS, 'build/abi-sanity.elf'], { stdio: 'inherit' });
    run = await runQemu(`${GUESTS}build/abi-sanity.elf`, '', 60_000);
    vals = run.output.split('\n').filter((l) => l.startsWith('val ')).map((l) => l.split(' ').slice(1));
  }, 120_000);

  it('passes every check and says so last', () => {
    expect(run.timedOut).toBe(false);
    const lines = run.output.trim().split('\n');
    expect(lines.filter((l) => l.includes('FAILED'))).toEqual([]);
    expect(lines.at(-1)).toBe('Test result: SUCCESS');
    expect(run.exitValue).toBe(0);
  });

  it('the C notify rule equals ringNeedsNotify on 64 random (old, new, event)', () => {
    const rows = vals.filter((v) => v[0] === 'notify');
    expect(rows.length).toBe(64);
    for (const [, old, n, ev, notify] of rows) {
      const [o, w, e] = [old, n, ev].map((x) => parseInt(x, 16));
      expect(ringNeedsNotify(o, w, e) ? 1 : 0, `old=${old} new=${n} event=${ev}`).toBe(parseInt(notify, 16));
    }
  });

  it('the C xen_pfn_to_cr3 equals the TypeScript one', () => {
    const rows = vals.filter((v) => v[0] === 'cr3');
    expect(rows.length).toBeGreaterThan(5);
    for (const [, pfn, cr3] of rows) expect(xen_pfn_to_cr3(parseInt(pfn, 16))).toBe(parseInt(cr3, 16));
  });

  it('struct sizes seen by the guest are the generated constants', () => {
    const sizes = vals.find((v) => v[0] === 'sizes')?.slice(1).map((x) => parseInt(x, 16));
    expect(sizes).toEqual([SIZEOF_START_INFO, SIZEOF_SHARED_INFO, SIZEOF_VCPU_GUEST_CONTEXT, SIZEOF_BLKIF_REQUEST]);
  });
});

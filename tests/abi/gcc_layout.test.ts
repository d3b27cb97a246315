/**
 * The generated C headers, compiled by the machine's gcc -m32, agree with the TypeScript ABI:
 * a probe translation unit includes every header and stores sizeof/offsetof of every struct
 * field, every numeric #define and the results of the function-like macros in its own ELF
 * sections; the test extracts them with objcopy and compares each with src/abi.
 * Every header must also compile on its own, as C (-Wall -Wextra -Werror) and as assembly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkFields } from '../../src/abi/layout.ts';
import { __RING_SIZE } from '../../src/abi/io/ring.ts';
import { xen_pfn_to_cr3, xen_cr3_to_pfn } from '../../src/abi/arch_x86_32.ts';
import { XENMEMF_get_node, XENMEMF_node } from '../../src/abi/memory.ts';
import { MASK_XENCONS_IDX, XENCONS_OUT_SIZE } from '../../src/abi/io/console.ts';
import { MASK_XENSTORE_IDX, XSD_ERRORS } from '../../src/abi/io/xs_wire.ts';
import { GNTTABOP_error_msgs } from '../../src/abi/grant_table.ts';
import { generateAll, type CInventory } from '../../tools/abi/gen_c_headers.ts';

const INCLUDE = fileURLToPath(new URL('../../guests/include/', import.meta.url));
const hasGcc = spawnSync('gcc', ['--version']).status === 0;
const CFLAGS = ['-m32', '-std=gnu11', '-ffreestanding', '-nostdinc', '-O0', '-Wall', '-Wextra', '-Werror'];

/** One probed value: what C computes for `expr`, and what TypeScript says it must be. */
interface Probe { readonly what: string; readonly expr: string; readonly want: bigint }

function gccInclude(): string {
  return execFileSync('gcc', ['-m32', '-print-file-name=include'], { encoding: 'utf8' }).trim();
}

/** The C-side cross-checks of function-like macros, with their TypeScript counterparts. */
function macroProbes(inv: CInventory): Probe[] {
  const probes: Probe[] = [];
  const add = (what: string, expr: string, want: number | bigint): void => {
    probes.push({ what, expr, want: BigInt.asUintN(64, BigInt(want)) });
  };
  for (const pfn of [0, 1, 0x12345, 0xFFFFF, 0x100000, 0x3FFFFFF, 0xFFFFFFFF]) {
    add(`xen_pfn_to_cr3(${pfn})`, `xen_pfn_to_cr3(${pfn}u)`, xen_pfn_to_cr3(pfn));
    add(`xen_cr3_to_pfn(${pfn})`, `xen_cr3_to_pfn(${pfn}u)`, xen_cr3_to_pfn(pfn));
  }
  for (const node of [0, 1, 7, 254]) {
    add(`XENMEMF_node(${node})`, `XENMEMF_node(${node})`, XENMEMF_node(node));
    add(`XENMEMF_get_node(XENMEMF_node(${node}))`, `(uint32_t)XENMEMF_get_node(XENMEMF_node(${node}))`, XENMEMF_get_node(XENMEMF_node(node)) >>> 0);
  }
  for (const idx of [0, 5, 2047, 2048, 5000, 0xFFFFFFFF]) {
    add(`MASK_XENCONS_IDX(${idx}, out)`, `MASK_XENCONS_IDX(${idx}u, ((struct xencons_interface *)0)->out)`, MASK_XENCONS_IDX(idx, XENCONS_OUT_SIZE));
    add(`MASK_XENSTORE_IDX(${idx})`, `MASK_XENSTORE_IDX(${idx}u)`, MASK_XENSTORE_IDX(idx));
  }
  for (const { ring } of inv.rings) {
    for (const pages of [1, 2, 4, 8, 16]) {
      add(`__CONST_RING_SIZE(${ring.name}, ${pages} pages)`, `__CONST_RING_SIZE(${ring.name}, ${pages * 4096})`, __RING_SIZE(pages * 4096, ring.entrySize));
    }
    add(`sizeof(union ${ring.name}_sring_entry)`, `sizeof(union ${ring.name}_sring_entry)`, ring.entrySize);
    add(`offsetof(${ring.name}_sring, ring)`, `__builtin_offsetof(struct ${ring.name}_sring, ring)`, 64);
    add(`offsetof(${ring.name}_sring, req_event)`, `__builtin_offsetof(struct ${ring.name}_sring, req_event)`, 4);
    add(`offsetof(${ring.name}_sring, rsp_prod)`, `__builtin_offsetof(struct ${ring.name}_sring, rsp_prod)`, 8);
    add(`offsetof(${ring.name}_sring, rsp_event)`, `__builtin_offsetof(struct ${ring.name}_sring, rsp_event)`, 12);
  }
  add('entries of xsd_errors', 'sizeof(xsd_errors) / sizeof(xsd_errors[0])', XSD_ERRORS.length);
  XSD_ERRORS.forEach((e, i) => add(`xsd_errors[${i}] is ${e.errstring}`, `XEN_${e.errstring}`, e.errnum));
  add('entries of GNTTABOP_error_msgs', 'sizeof((const char *[])GNTTABOP_error_msgs) / sizeof(const char *)', GNTTABOP_error_msgs.length);
  return probes;
}

/** Everything to compare: struct layouts, #define values, macro results. */
function allProbes(inv: CInventory): Probe[] {
  const probes: Probe[] = [];
  for (const { cType, def } of inv.structs) {
    probes.push({ what: `sizeof(${cType})`, expr: `sizeof(${cType})`, want: BigInt(def.size) });
    for (const { path, field, offset } of walkFields(def)) {
      probes.push({ what: `offsetof(${cType}, ${path})`, expr: `__builtin_offsetof(${cType}, ${path})`, want: BigInt(offset) });
      if (field.count !== 0) {
        probes.push({ what: `sizeof(${cType}.${path})`, expr: `sizeof(((${cType} *)0)->${path})`, want: BigInt(field.size) });
      }
    }
  }
  for (const c of inv.constants) {
    probes.push({ what: c.name, expr: `(uint64_t)(int64_t)(${c.name})`, want: BigInt.asUintN(64, BigInt(c.value)) });
  }
  return [...probes, ...macroProbes(inv)];
}

function probeSource(inv: CInventory, probes: Probe[]): string {
  return [
    '#include <stdint.h>',
    ...inv.headers.map((h) => `#include <xen/${h}>`),
    'const uint64_t abi_probe[] __attribute__((section(".abi_probe"), used)) = {',
    ...probes.map((p) => `    (uint64_t)(${p.expr}),`),
    '};',
    '/* String #defines, separated by \\001, in order. */',
    'const char abi_strings[] __attribute__((section(".abi_strings"), used)) =',
    ...inv.strings.map((s) => `    ${s.name} "\\001"`),
    '    "";',
    '',
  ].join('\n');
}

describe.skipIf(!hasGcc)('generated C headers under gcc -m32', () => {
  let dir = '';
  let inv: CInventory;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsxen-abi-'));
    inv = (await generateAll()).inventory;
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('every sizeof/offsetof, #define and macro agrees with src/abi', () => {
    const probes = allProbes(inv);
    const src = join(dir, 'probe.c');
    const obj = join(dir, 'probe.o');
    writeFileSync(src, probeSource(inv, probes));
    execFileSync('gcc', [...CFLAGS, '-isystem', gccInclude(), '-I', INCLUDE, '-c', src, '-o', obj], { stdio: 'pipe' });
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.abi_probe', obj, join(dir, 'probe.bin')]);
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.abi_strings', obj, join(dir, 'strings.bin')]);
    const bin = readFileSync(join(dir, 'probe.bin'));
    expect(bin.length).toBe(probes.length * 8);
    const bad: string[] = [];
    probes.forEach((p, i) => {
      const got = bin.readBigUInt64LE(i * 8);
      if (got !== p.want) bad.push(`${p.what}: C ${got}, TypeScript ${p.want}`);
    });
    expect(bad).toEqual([]);
    // Enough probes that a silently empty inventory cannot pass.
    expect(inv.structs.length).toBeGreaterThan(100);
    expect(inv.constants.length).toBeGreaterThan(800);

    const strings = readFileSync(join(dir, 'strings.bin')).toString('latin1').split('\u0001');
    expect(strings.slice(0, -1)).toEqual(inv.strings.map((s) => s.value));
  });

  it('each header compiles on its own, in C and in assembly', () => {
    const failures: string[] = [];
    for (const h of inv.headers) {
      const c = join(dir, 'one.c');
      writeFileSync(c, `#include <xen/${h}>\nint abi_one;\n`);
      const rc = spawnSync('gcc', [...CFLAGS, '-isystem', gccInclude(), '-I', INCLUDE, '-c', c, '-o', join(dir, 'one.o')], { encoding: 'utf8' });
      if (rc.status !== 0) failures.push(`${h} (C): ${rc.stderr}`);
      const s = join(dir, 'one.S');
      writeFileSync(s, `#include <xen/${h}>\n`);
      const ra = spawnSync('gcc', ['-m32', '-D__ASSEMBLY__', '-I', INCLUDE, '-c', s, '-o', join(dir, 'one.o')], { encoding: 'utf8' });
      if (ra.status !== 0) failures.push(`${h} (asm): ${ra.stderr}`);
    }
    expect(failures).toEqual([]);
  });

  it('a wrong layout fails to compile (the static asserts are live)', () => {
    const c = join(dir, 'bad.c');
    writeFileSync(c, '#include <xen/xen.h>\nXEN_ABI_ASSERT(sizeof(struct start_info) == 1111);\n');
    const rc = spawnSync('gcc', [...CFLAGS, '-isystem', gccInclude(), '-I', INCLUDE, '-c', c, '-o', join(dir, 'bad.o')], { encoding: 'utf8' });
    expect(rc.status).not.toBe(0);
    expect(rc.stderr).toMatch(/static assertion failed/);
  });
});

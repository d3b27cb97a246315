/**
 * 3.0-era kernels: before Xen 3.0.4 a PV kernel described itself with the `__xen_guest`
 * section string (GUEST_OS=...,XEN_VER=xen-3.0,VIRT_BASE=...,HYPERCALL_PAGE=<page number>,
 * PAE=yes[extended-cr3]) instead of ELF notes. Real PV test kernels are turned into such
 * kernels byte for byte (their Xen notes disowned, a non-loaded section renamed to
 * `__xen_guest` and given the string) and must boot and pass on tsxen as they do with
 * notes: the builder reads the string (hypercall page as a page number from VIRT_BASE),
 * and the hypercalls those kernels use (incl. the hypercall page) behave the same.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import { readXenKernel } from '../../src/dom0/toolstack/xen_elf.ts';
import type { GuestExit } from '../../src/dom0/toolstack/toolstack.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { SHUTDOWN_poweroff } from '../../src/abi/sched.ts';

const BUILD = join(import.meta.dirname, '..', '..', 'guests', 'build');
const KERNEL = (name: string): string => join(BUILD, `pv-${name}.elf`);

interface Section { name: string; nameOff: number; type: number; offset: number; size: number }

function sections(img: Uint8Array): Section[] {
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const shoff = v.getUint32(0x20, true), shentsize = v.getUint16(0x2e, true), shnum = v.getUint16(0x30, true);
  const shstrndx = v.getUint16(0x32, true);
  const strOff = v.getUint32(shoff + shstrndx * shentsize + 0x10, true);
  const out: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    const nameOff = strOff + v.getUint32(h, true);
    let end = nameOff;
    while (img[end] !== 0) end++;
    out.push({
      name: Buffer.from(img.subarray(nameOff, end)).toString('latin1'), nameOff, type: v.getUint32(h + 4, true),
      offset: v.getUint32(h + 0x10, true), size: v.getUint32(h + 0x14, true),
    });
  }
  return out;
}

/** The kernel with its "Xen" notes disowned and `xenGuest` as its __xen_guest section. */
function legacyImage(path: string, xenGuest: string): Uint8Array {
  const img = new Uint8Array(readFileSync(path));
  const v = new DataView(img.buffer);
  const secs = sections(img);
  const notes = secs.find((s) => s.name === '.note.Xen');
  if (!notes) throw new Error('no .note.Xen');
  for (let o = notes.offset; o < notes.offset + notes.size;) {
    const namesz = v.getUint32(o, true), descsz = v.getUint32(o + 4, true);
    expect(Buffer.from(img.subarray(o + 12, o + 15)).toString('latin1')).toBe('Xen');
    img[o + 14] = 'o'.charCodeAt(0); // "Xeo": no longer a Xen note
    o += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3);
  }
  // A non-loaded section with a long enough name and room for the string.
  const victim = secs.find((s) => s.name.startsWith('.debug_') && s.name.length >= 11 && s.size > xenGuest.length);
  if (!victim) throw new Error('no section to reuse');
  img.set(Buffer.from('__xen_guest\0', 'latin1'), victim.nameOff);
  img.fill(0, victim.offset, victim.offset + victim.size);
  img.set(Buffer.from(xenGuest, 'latin1'), victim.offset);
  return img;
}

async function boot(name: string, image: Uint8Array): Promise<{ exit: GuestExit | null; out: string; host: Host }> {
  const host = new Host({ memoryMiB: 64, wallclockBaseNs: 1_700_000_000e9 });
  let out = '';
  let exit: GuestExit | null = null;
  const cfg = pvConfig(parseXlConfig(`name="${name}-legacy"\nkernel="${KERNEL(name)}"\nmemory=32\non_crash="destroy"`));
  const g = host.toolstack.createPv(cfg, image, { sink: (b) => (out += Buffer.from(b).toString('latin1')) });
  g.onExit((e) => (exit = e));
  await host.runUntil(() => exit !== null, { timeoutMs: 60_000 });
  return { exit, out, host };
}

/** The string for kernel `name` (its hypercall page as a page number from VIRT_BASE 0). */
const STRING = (name: string, pae: string): string => {
  const page = readXenKernel(new Uint8Array(readFileSync(KERNEL(name)))).hypercallPage / 4096;
  return 'GUEST_OS=tsxen-pvtest,GUEST_VER=1,XEN_VER=xen-3.0,VIRT_BASE=0x0,ELF_PADDR_OFFSET=0x0,' +
    `HYPERCALL_PAGE=0x${page.toString(16)},LOADER=generic,PAE=${pae}`;
};

// xen_version checks XENFEAT_pae_pgdir_above_4gb, which Xen offers only with the
// pae_extended_cr3 assist (PAE=yes[extended-cr3]): with plain PAE=yes it rightly fails.
const CASES: ReadonlyArray<readonly [string, string]> = [
  ['hypercall_page', 'yes'], ['hypercall_page', 'yes[extended-cr3]'], ['events', 'yes'], ['events', 'yes[extended-cr3]'],
  ['mmu_update', 'yes'], ['mmu_update', 'yes[extended-cr3]'], ['xen_version', 'yes[extended-cr3]'], ['boot_info', 'yes[extended-cr3]'],
];

describe('3.0-era kernels described by __xen_guest', () => {
  for (const [name, pae] of CASES) {
    {
      it.skipIf(!existsSync(KERNEL(name)))(`${name} with PAE=${pae} boots and passes`, async () => {
        const image = legacyImage(KERNEL(name), STRING(name, pae));
        const k = readXenKernel(image);
        expect(k.fromNotes).toBe(false);
        expect(k.hypercallPage).toBe(readXenKernel(new Uint8Array(readFileSync(KERNEL(name)))).hypercallPage);
        expect(k.pae).toBe(pae === 'yes' ? 'yes' : 'extended-cr3');
        const { exit, out, host } = await boot(name, image);
        expect(out).toMatch(/Test result: SUCCESS/);
        expect(exit).toEqual({ reason: SHUTDOWN_poweroff, action: 'destroy' });
        expect(auditMemory(host.xen)).toEqual([]);
      }, 60_000);
    }
  }

  it.skipIf(!existsSync(KERNEL('xen_version')))('without extended-cr3 no XENFEAT_pae_pgdir_above_4gb (xen_version notices)', async () => {
    const { exit, out } = await boot('xen_version', legacyImage(KERNEL('xen_version'), STRING('xen_version', 'yes')));
    expect(out).toMatch(/Test result: FAILURE .*first: xen_version\.c:\d+ fi\.submap & \(1u << XENFEAT_pae_pgdir_above_4gb\)/);
    expect(exit?.reason).toBe(SHUTDOWN_poweroff);
  }, 60_000);

  it.skipIf(!existsSync(KERNEL('xen_version')))('refuses a legacy kernel the builder cannot take (PAE=no, bad numbers)', () => {
    expect(() => readXenKernel(legacyImage(KERNEL('xen_version'), STRING('xen_version', 'no')))).toThrow(/not PAE/);
    expect(() => readXenKernel(legacyImage(KERNEL('xen_version'), STRING('xen_version', 'yes').replace('0x105', '0xzz')))).toThrow(/not a number/);
    expect(() => readXenKernel(legacyImage(KERNEL('xen_version'), STRING('xen_version', 'yes').replace('XEN_VER=xen-3.0', 'XEN_VER=xen-2.0'))))
      .toThrow(/XEN_VERSION/);
  });
});

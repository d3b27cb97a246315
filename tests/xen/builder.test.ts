/**
 * The PV domain builder's pure parts: reading a kernel's Xen ELF notes (and the legacy
 * __xen_guest string), refusing kernels Xen would refuse, and laying out the boot region
 * exactly as libxc does (checked against what real Xen 4.17 gave the boot_info test
 * kernel: p2m 0x115000, start_info 0x11d000, 7 table frames at 0x120000, ESP 0x128000,
 * region end 0x400000), plus the xl.cfg parser.
 */
import { describe, expect, it } from 'vitest';
import { BuildError, readXenKernel } from '../../src/dom0/toolstack/xen_elf.ts';
import { countPaeTables, paeL2Slots, planLayout } from '../../src/dom0/toolstack/pv_builder.ts';
import { applyXlOverrides, parseXlConfig, pvConfig, XlConfigError } from '../../src/dom0/toolstack/xl_config.ts';

interface Note { type: number; desc: Uint8Array }

const str = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);
const u32 = (x: number): Uint8Array => new Uint8Array(new Uint32Array([x]).buffer);

/** A minimal ELF32 i386 executable: one PT_LOAD at `base`, Xen notes, optional __xen_guest. */
function elf(opts: { base?: number; size?: number; entry?: number; notes?: Note[]; xenGuest?: string }): Uint8Array {
  const base = opts.base ?? 0x100000, size = opts.size ?? 0x3000, entry = opts.entry ?? base;
  const notes = opts.notes ?? [];
  const noteBytes: number[] = [];
  for (const n of notes) {
    const name = str('Xen');
    const pad = (b: Uint8Array): number[] => [...b, ...new Array((4 - (b.length % 4)) % 4).fill(0)];
    noteBytes.push(...u32(name.length), ...u32(n.desc.length), ...u32(n.type), ...pad(name), ...pad(n.desc));
  }
  const shstr = str(['', '.shstrtab', '__xen_guest'].join('\0'));
  const guest = opts.xenGuest !== undefined ? str(opts.xenGuest) : new Uint8Array(0);
  const phnum = notes.length > 0 ? 2 : 1;
  const phoff = 52, dataOff = 0x1000;
  const noteOff = dataOff + size, shstrOff = noteOff + noteBytes.length, guestOff = shstrOff + shstr.length;
  const shoff = (guestOff + guest.length + 3) & ~3;
  const shnum = opts.xenGuest !== undefined ? 3 : 2;
  const out = new Uint8Array(shoff + shnum * 40);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); v.setUint16(18, 3, true); v.setUint32(20, 1, true);
  v.setUint32(24, entry, true); v.setUint32(28, phoff, true); v.setUint32(32, shoff, true);
  v.setUint16(40, 52, true); v.setUint16(42, 32, true); v.setUint16(44, phnum, true);
  v.setUint16(46, 40, true); v.setUint16(48, shnum, true); v.setUint16(50, 1, true);
  const ph = (i: number, type: number, off: number, va: number, len: number, flags: number): void => {
    const o = phoff + i * 32;
    v.setUint32(o, type, true); v.setUint32(o + 4, off, true); v.setUint32(o + 8, va, true);
    v.setUint32(o + 12, va, true); v.setUint32(o + 16, len, true); v.setUint32(o + 20, len, true);
    v.setUint32(o + 24, flags, true); v.setUint32(o + 28, 4, true);
  };
  ph(0, 1, dataOff, base, size, 7);
  if (notes.length > 0) ph(1, 4, noteOff, 0, noteBytes.length, 4);
  out.set(noteBytes, noteOff);
  out.set(shstr, shstrOff);
  out.set(guest, guestOff);
  const sh = (i: number, name: number, type: number, off: number, len: number): void => {
    const o = shoff + i * 40;
    v.setUint32(o, name, true); v.setUint32(o + 4, type, true); v.setUint32(o + 16, off, true); v.setUint32(o + 20, len, true);
  };
  sh(1, 1, 3, shstrOff, shstr.length);
  if (opts.xenGuest !== undefined) sh(2, 11, 1, guestOff, guest.length);
  return out;
}

// Xen ELF note types (public/elfnote.h).
const GUEST_OS = 6, XEN_VERSION = 5, LOADER = 8, VIRT_BASE = 3, PADDR_OFFSET = 4, ENTRY = 1, HYPERCALL_PAGE = 2;
const FEATURES = 10, PAE_MODE = 9;

function pvNotes(extra: Note[] = [], pae = 'yes'): Note[] {
  return [
    { type: GUEST_OS, desc: str('tsxen-test') }, { type: XEN_VERSION, desc: str('xen-3.0') },
    { type: LOADER, desc: str('generic') }, { type: VIRT_BASE, desc: u32(0) }, { type: PADDR_OFFSET, desc: u32(0) },
    { type: ENTRY, desc: u32(0x100000) }, { type: HYPERCALL_PAGE, desc: u32(0x101000) },
    { type: PAE_MODE, desc: str(pae) }, ...extra,
  ];
}

describe('Xen kernel notes', () => {
  it('reads ELF notes', () => {
    const k = readXenKernel(elf({ notes: pvNotes([{ type: FEATURES, desc: str('pae_pgdir_above_4gb|writable_page_tables') }]) }));
    expect(k.fromNotes).toBe(true);
    expect(k.guestOs).toBe('tsxen-test');
    expect(k.virtBase).toBe(0);
    expect(k.entry).toBe(0x100000);
    expect(k.hypercallPage).toBe(0x101000);
    expect(k.pae).toBe('extended-cr3');
    expect([k.virtKstart, k.virtKend]).toEqual([0x100000, 0x103000]);
    expect(k.featuresRequired).toBe(0);
  });

  it('reads the legacy __xen_guest string (HYPERCALL_PAGE is a page number)', () => {
    const k = readXenKernel(elf({
      base: 0xc0100000, entry: 0xc0100000,
      xenGuest: 'GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=xen-3.0,VIRT_BASE=0xC0000000,ELF_PADDR_OFFSET=0xC0000000,' +
        'HYPERCALL_PAGE=0x101,LOADER=generic,PAE=yes[extended-cr3]',
    }));
    expect(k.fromNotes).toBe(false);
    expect(k.virtBase).toBe(0xc0000000);
    expect(k.hypercallPage).toBe(0xc0101000);
    expect(k.pae).toBe('extended-cr3');
  });

  it('refuses what Xen refuses', () => {
    expect(() => readXenKernel(new Uint8Array(64))).toThrow(BuildError);
    expect(() => readXenKernel(elf({}))).toThrow(/neither Xen ELF notes/);
    expect(() => readXenKernel(elf({ notes: pvNotes([], 'no') }))).toThrow(/not PAE/);
    expect(() => readXenKernel(elf({ notes: pvNotes([{ type: FEATURES, desc: str('!dom0') }]) }))).toThrow(/requires features/);
    expect(readXenKernel(elf({ notes: pvNotes([{ type: FEATURES, desc: str('!dom0') }]) }), true).featuresRequired).not.toBe(0);
    expect(() => readXenKernel(elf({ notes: pvNotes([{ type: FEATURES, desc: str('!no_such_feature') }]) }))).toThrow(/unknown feature/);
    expect(() => readXenKernel(elf({ notes: pvNotes().map((n) => (n.type === XEN_VERSION ? { type: n.type, desc: str('xen-2.0') } : n)) })))
      .toThrow(/XEN_VERSION/);
    expect(() => readXenKernel(elf({ notes: pvNotes().map((n) => (n.type === ENTRY ? { type: n.type, desc: u32(0x900000) } : n)) })))
      .toThrow(/entry point/);
  });
});

describe('boot layout (libxc xc_dom_x86)', () => {
  it('gives the boot_info kernel what real Xen gave it', () => {
    const l = planLayout(0, 0x115000, 8192);
    expect(l.p2mVa).toBe(0x115000);
    expect(l.startInfoVa).toBe(0x11d000);
    expect(l.storeVa).toBe(0x11e000);
    expect(l.consoleVa).toBe(0x11f000);
    expect(l.ptVa).toBe(0x120000);
    expect(l.nrPtFrames).toBe(7); // L3, four L2s (slots 0-3), two L1s
    expect(l.stackVa + 4096).toBe(0x128000);
    expect(l.bootEnd).toBe(0x400000);
  });

  it('maps every GiB up to slot 3, or from the kernel GiB for high kernels', () => {
    expect(paeL2Slots(0, 0x400000)).toEqual([0, 1, 2, 3]);
    expect(paeL2Slots(0xc0000000, 0xc0400000)).toEqual([3]);
    expect(paeL2Slots(0x80000000, 0xc0400000)).toEqual([2, 3]);
    expect(countPaeTables(0xc0000000, 0xc0800000)).toBe(1 + 1 + 4);
  });

  it('refuses a region larger than the memory', () => {
    expect(() => planLayout(0, 0x1100000, 1024)).toThrow(BuildError);
  });
});

describe('xl.cfg', () => {
  it('parses strings, numbers, lists, comments and ; separators', () => {
    const c = parseXlConfig('# guest\nname = "a b" ; memory=64\nvcpus=0x2\nextra=\'console=hvc0\'\nvfb = [ "x", \'y\',\n "z" ]\n');
    expect(c.get('name')).toBe('a b');
    expect(c.get('memory')).toBe(64);
    expect(c.get('vcpus')).toBe(2);
    expect(c.get('vfb')).toEqual(['x', 'y', 'z']);
    const g = pvConfig(c.set('kernel', 'k.elf'));
    expect(g.cmdline).toBe('console=hvc0');
    expect(g.maxmemMiB).toBe(64);
    expect(g.ignored).toEqual(['vfb']);
  });

  it('applies command-line overrides, bare words as strings', () => {
    const c = parseXlConfig('name="x"\nkernel="a"\nmemory=16');
    applyXlOverrides(c, ['kernel=build/b.elf', 'memory=32', 'ioports=["92","3f8-3ff"]']);
    const g = pvConfig(c);
    expect(g.kernel).toBe('build/b.elf');
    expect(g.memoryMiB).toBe(32);
    expect(g.ioports).toEqual([[0x92, 0x92], [0x3f8, 0x3ff]]);
  });

  it('rejects bad configurations with the line', () => {
    expect(() => parseXlConfig('name="x\n')).toThrow(/config:1: name: .*unterminated string/);
    expect(() => parseXlConfig('a=1\nb=@')).toThrow(/config:2/);
    expect(() => pvConfig(parseXlConfig('name="x"'))).toThrow(XlConfigError);
    expect(() => pvConfig(parseXlConfig('name="x"\nkernel="k"\ntype="hvm"'))).toThrow(/only PV/);
    expect(() => pvConfig(parseXlConfig('name="x"\nkernel="k"\nmemory=64\nmaxmem=32'))).toThrow(/maxmem/);
    expect(() => pvConfig(parseXlConfig('name="x"\nkernel="k"\non_crash="explode"'))).toThrow(/action/);
  });
});

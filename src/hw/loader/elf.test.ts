import { describe, expect, it } from 'vitest';
import { Elf32, ElfError, PT_LOAD, PT_NOTE } from './elf.ts';

/** Builds a minimal ELF32 executable: one PT_LOAD, optionally one PT_NOTE. */
function makeElf(opts: { entry?: number; note?: { name: string; type: number; desc: number[] } } = {}): Uint8Array {
  const code = [0x90, 0xf4];
  const notes: number[] = [];
  if (opts.note) {
    const name = [...opts.note.name].map((c) => c.charCodeAt(0)).concat(0);
    const pad = (a: number[]) => { while (a.length % 4) a.push(0); return a; };
    const u32 = (x: number) => [x & 255, (x >> 8) & 255, (x >> 16) & 255, (x >>> 24) & 255];
    notes.push(...u32(name.length), ...u32(opts.note.desc.length), ...u32(opts.note.type), ...pad(name), ...pad([...opts.note.desc]));
  }
  const phnum = opts.note ? 2 : 1;
  const phoff = 52;
  const dataOff = phoff + 32 * phnum;
  const img = new Uint8Array(dataOff + code.length + notes.length);
  const v = new DataView(img.buffer);
  img.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); v.setUint16(18, 3, true); v.setUint32(20, 1, true);
  v.setUint32(24, opts.entry ?? 0x100000, true);
  v.setUint32(28, phoff, true); v.setUint16(40, 52, true); v.setUint16(42, 32, true); v.setUint16(44, phnum, true);
  const ph = (i: number, type: number, off: number, addr: number, size: number) => {
    const o = phoff + 32 * i;
    v.setUint32(o, type, true); v.setUint32(o + 4, off, true); v.setUint32(o + 8, addr, true); v.setUint32(o + 12, addr, true);
    v.setUint32(o + 16, size, true); v.setUint32(o + 20, size, true);
  };
  ph(0, PT_LOAD, dataOff, 0x100000, code.length);
  if (opts.note) ph(1, PT_NOTE, dataOff + code.length, 0, notes.length);
  img.set(code, dataOff);
  img.set(notes, dataOff + code.length);
  return img;
}

describe('Elf32', () => {
  it('reads entry, segments and notes', () => {
    const elf = new Elf32(makeElf({ entry: 0x100001, note: { name: 'Xen', type: 6, desc: [0x6c, 0x69, 0x6e, 0] } }));
    expect(elf.entry).toBe(0x100001);
    const load = elf.segments.find((s) => s.type === PT_LOAD)!;
    expect([...elf.segmentData(load)]).toEqual([0x90, 0xf4]);
    expect(elf.segments.some((s) => s.type === PT_NOTE)).toBe(true);
    expect(elf.notes()).toEqual([{ name: 'Xen', type: 6, desc: new Uint8Array([0x6c, 0x69, 0x6e, 0]) }]);
  });

  it('rejects corrupt and truncated images with a reason', () => {
    expect(() => new Elf32(new Uint8Array(10))).toThrow(/too short/);
    const bad = makeElf(); bad[0] = 0;
    expect(() => new Elf32(bad)).toThrow(/bad magic/);
    const c64 = makeElf(); c64[4] = 2;
    expect(() => new Elf32(c64)).toThrow(/ELFCLASS32/);
    const truncated = makeElf().subarray(0, 70);
    expect(() => new Elf32(truncated)).toThrow(ElfError);
    const badSeg = makeElf();
    new DataView(badSeg.buffer).setUint32(52 + 16, 0x7fffffff, true);
    expect(() => new Elf32(badSeg)).toThrow(/runs past the end/);
  });
});

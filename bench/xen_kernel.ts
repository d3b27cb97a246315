/**
 * Tiny PV kernels assembled in memory for the hypervisor benchmarks: an ELF32 image with
 * the Xen notes a 32-bit PAE PV kernel needs (VIRT_BASE 0, loaded at 1 MiB, entry at the
 * start of the code) around a few bytes of machine code. No toolchain, so `npm run bench`
 * needs nothing but the repository.
 */

const str = (s: string): number[] => [...new TextEncoder().encode(s), 0];
const le32 = (x: number): number[] => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];

/** Machine-code helpers (32-bit operands). */
export const asm = {
  movEax: (x: number): number[] => [0xb8, ...le32(x)],
  movEcx: (x: number): number[] => [0xb9, ...le32(x)],
  movEbx: (x: number): number[] => [0xbb, ...le32(x)],
  movEsi: (x: number): number[] => [0xbe, ...le32(x)],
  movEdi: (x: number): number[] => [0xbf, ...le32(x)],
  xorEbx: [0x31, 0xdb],
  xorEcx: [0x31, 0xc9],
  xorEdx: [0x31, 0xd2],
  int82: [0xcd, 0x82],
  nop2: [0x90, 0x90],
  decEdi: [0x4f],
  /** jnz back to `target` from the current length `at` (rel32). */
  jnz: (at: number, target: number): number[] => [0x0f, 0x85, ...le32(target - (at + 6))],
  hang: [0xeb, 0xfe],
};

export const LOAD_ADDR = 0x100000;

/** SCHEDOP_shutdown(poweroff) with the reason word at `reasonVa` (which must read 0). */
export function shutdown(reasonVa: number): number[] {
  return [...asm.movEax(29), ...asm.movEbx(2), ...asm.movEcx(reasonVa), ...asm.int82, ...asm.hang];
}

/** An ELF image whose code is `code`, loaded at 1 MiB, `bssPages` zero pages after it. */
export function pvKernel(code: readonly number[], bssPages = 4): Uint8Array {
  const notes: Array<[number, number[]]> = [
    [6, str('tsxen-bench')], [7, str('1')], [5, str('xen-3.0')], [8, str('generic')],
    [3, le32(0)], [4, le32(0)], [1, le32(LOAD_ADDR)], [9, str('yes')],
  ];
  const noteBytes: number[] = [];
  for (const [type, desc] of notes) {
    const name = str('Xen');
    const pad = (b: number[]): number[] => [...b, ...new Array((4 - (b.length % 4)) % 4).fill(0)];
    noteBytes.push(...le32(name.length), ...le32(desc.length), ...le32(type), ...pad(name), ...pad(desc));
  }
  const codeOff = 0x1000;
  const fileSize = Math.ceil(code.length / 4096) * 4096;
  const memSize = fileSize + bssPages * 4096;
  const noteOff = codeOff + fileSize;
  const out = new Uint8Array(noteOff + noteBytes.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true);
  v.setUint16(18, 3, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, LOAD_ADDR, true);
  v.setUint32(28, 52, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 2, true);
  v.setUint16(46, 40, true);
  const ph = (i: number, type: number, off: number, va: number, file: number, mem: number): void => {
    const o = 52 + i * 32;
    v.setUint32(o, type, true);
    v.setUint32(o + 4, off, true);
    v.setUint32(o + 8, va, true);
    v.setUint32(o + 12, va, true);
    v.setUint32(o + 16, file, true);
    v.setUint32(o + 20, mem, true);
    v.setUint32(o + 24, 7, true);
    v.setUint32(o + 28, 4096, true);
  };
  ph(0, 1, codeOff, LOAD_ADDR, fileSize, memSize);
  ph(1, 4, noteOff, 0, noteBytes.length, noteBytes.length);
  out.set(code, codeOff);
  out.set(noteBytes, noteOff);
  return out;
}

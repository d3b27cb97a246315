/**
 * Machine memory: the RAM of the emulated PC, one SharedArrayBuffer of 4 KiB frames.
 *
 * Invariants:
 *  - The size is a non-zero multiple of 4 KiB and at most MAX_MACHINE_BYTES (below 2 GiB),
 *    so every machine address is a non-negative int32 and the CPU can keep them in
 *    Int32Arrays without `>>> 0`.
 *  - The host is little-endian (checked once at module load): DataView accesses with
 *    `littleEndian = true` and the Uint8Array view agree with x86 byte order.
 *  - Code coherence (CPU-PERF rule 3). `codeLines[f]` has bit n set when 128-byte line n of
 *    frame f holds bytes of a decoded instruction block. Any write that touches such a line
 *    must reach the code listeners (the decoded-block cache) before the next instruction
 *    fetch. CPU stores get there through their TLB (code frames are flagged); every other
 *    writer (hypervisor, grant copy, domain builder, device DMA, console) MUST use the write
 *    methods below, or write through `u8`/`view` and then call `notifyWritten(addr, len)`.
 *    Reads may use the views directly.
 *
 * Worked example: the domain builder copies a kernel to 0x100000 with `writeBytes`; the CPU
 * later decodes a block at 0x100000 and sets bit 0 of codeLines[0x100]; a grant copy into
 * 0x100040 calls `writeBytes` again, sees bit 0 set, and the listener drops that block.
 */
import { type Maddr, PAGE_SIZE } from './addr.ts';

/** Largest machine memory: 2 GiB minus one frame, so addresses stay positive int32. */
export const MAX_MACHINE_BYTES = 0x8000_0000 - PAGE_SIZE;

/** Told which machine bytes were written while they hold decoded code. */
export interface CodeWriteListener {
  /** [addr, addr + len) was written; `lines` is the mask of touched lines of frame `addr >> 12`. */
  codeWritten(frame: number, lines: number): void;
}

if (new Uint8Array(new Uint32Array([0x11223344]).buffer)[0] !== 0x44) {
  throw new Error('tsxen needs a little-endian host');
}

export class MachineMemory {
  readonly buffer: SharedArrayBuffer;
  /** Size in bytes. */
  readonly size: number;
  /** Number of 4 KiB frames. */
  readonly frames: number;
  readonly u8: Uint8Array;
  readonly view: DataView;
  /** Per frame: bit n = 128-byte line n holds decoded code (see the module comment). */
  readonly codeLines: Int32Array;
  private readonly _listeners: CodeWriteListener[] = [];

  constructor(bytes: number) {
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes % PAGE_SIZE !== 0) {
      throw new RangeError(`machine memory size ${bytes} is not a positive multiple of 4096`);
    }
    if (bytes > MAX_MACHINE_BYTES) {
      throw new RangeError(`machine memory size ${bytes} exceeds the maximum ${MAX_MACHINE_BYTES}`);
    }
    this.buffer = new SharedArrayBuffer(bytes);
    this.size = bytes;
    this.frames = bytes / PAGE_SIZE;
    this.u8 = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.codeLines = new Int32Array(new SharedArrayBuffer(this.frames * 4));
  }

  addCodeListener(l: CodeWriteListener): void {
    this._listeners.push(l);
  }

  removeCodeListener(l: CodeWriteListener): void {
    const i = this._listeners.indexOf(l);
    if (i >= 0) this._listeners.splice(i, 1);
  }

  /** True if [addr, addr + len) lies inside machine memory. */
  contains(addr: number, len: number): boolean {
    return addr >= 0 && len >= 0 && addr + len <= this.size;
  }

  read8(a: Maddr): number {
    this._check(a, 1);
    return this.u8[a]!;
  }

  read16(a: Maddr): number {
    this._check(a, 2);
    return this.view.getUint16(a, true);
  }

  read32(a: Maddr): number {
    this._check(a, 4);
    return this.view.getUint32(a, true);
  }

  /** A copy of [a, a + len). */
  readBytes(a: Maddr, len: number): Uint8Array {
    this._check(a, len);
    return this.u8.slice(a, a + len);
  }

  /** A live view of [a, a + len). Read-only by contract: writes through it bypass coherence. */
  bytesView(a: Maddr, len: number): Uint8Array {
    this._check(a, len);
    return this.u8.subarray(a, a + len);
  }

  write8(a: Maddr, v: number): void {
    this._check(a, 1);
    this.u8[a] = v;
    this.notifyWritten(a, 1);
  }

  write16(a: Maddr, v: number): void {
    this._check(a, 2);
    this.view.setUint16(a, v & 0xffff, true);
    this.notifyWritten(a, 2);
  }

  write32(a: Maddr, v: number): void {
    this._check(a, 4);
    this.view.setInt32(a, v | 0, true);
    this.notifyWritten(a, 4);
  }

  writeBytes(a: Maddr, src: Uint8Array): void {
    this._check(a, src.length);
    this.u8.set(src, a);
    this.notifyWritten(a, src.length);
  }

  fill(a: Maddr, len: number, byte: number): void {
    this._check(a, len);
    this.u8.fill(byte, a, a + len);
    this.notifyWritten(a, len);
  }

  /** memmove inside machine memory (grant copy, page flip helpers). */
  copy(dst: Maddr, src: Maddr, len: number): void {
    this._check(dst, len);
    this._check(src, len);
    this.u8.copyWithin(dst, src, src + len);
    this.notifyWritten(dst, len);
  }

  /**
   * Keep decoded code coherent after bytes [a, a + len) changed by any means other than the
   * write methods above. Cheap when no touched line holds code (one load per frame).
   */
  notifyWritten(a: number, len: number): void {
    if (len <= 0) return;
    const end = a + len - 1;
    const lastFrame = end >>> 12;
    for (let f = a >>> 12; f <= lastFrame; f++) {
      const code = this.codeLines[f]!;
      if (code === 0) continue;
      const lo = f === a >>> 12 ? (a & 0xfff) >>> 7 : 0;
      const hi = f === lastFrame ? (end & 0xfff) >>> 7 : 31;
      const touched = ((2 << hi) - 1) & ~((1 << lo) - 1);
      if ((code & touched) !== 0) this.codeWritten(f, code & touched);
    }
  }

  /** Tell the listeners that lines `lines` of `frame`, which hold code, were written. */
  codeWritten(frame: number, lines: number): void {
    const ls = this._listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!.codeWritten(frame, lines);
  }

  private _check(a: number, len: number): void {
    if (!(a >= 0 && len >= 0 && a + len <= this.size)) {
      throw new RangeError(`machine access [${hex(a)}, +${len}) is outside ${hex(this.size)} bytes of memory`);
    }
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

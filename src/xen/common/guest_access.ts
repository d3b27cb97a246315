/**
 * copy_from_guest / copy_to_guest: how hypercall workers reach the caller's memory through
 * its guest handles. Each vCPU has one GuestMemory: for a PV guest, its virtual address
 * space through its own page tables (pv/pv_guest_memory.ts); for a native domain, its
 * pseudo-physical space (arch/x86/native.ts).
 *
 * Decoding helpers work on a preallocated scratch buffer, so a hypercall's argument struct
 * is read without allocation: `readStruct(mem, gva, size)` returns a DataView of the scratch
 * (valid until the next call) or null on a fault.
 *
 * Invariants: a fault anywhere in the range makes the whole access fail with nothing
 * written past the fault boundary reported as success (the caller returns -EFAULT); a
 * write never lands in a page the guest could not write itself.
 */

export interface GuestMemory {
  /** Copy `len` bytes at guest address `gva` into dst[0..len); false on a fault. */
  read(gva: number, dst: Uint8Array, len: number): boolean;
  /** Copy src[0..len) to guest address `gva`; false on a fault. */
  write(gva: number, src: Uint8Array, len: number): boolean;
}

const SCRATCH = 4096 * 4;

/** Per-hypervisor scratch buffers for argument decoding (one host thread runs hypercalls). */
export class GuestScratch {
  readonly buf = new Uint8Array(SCRATCH);
  readonly view = new DataView(this.buf.buffer);
  readonly outBuf = new Uint8Array(SCRATCH);
  readonly outView = new DataView(this.outBuf.buffer);
  readonly u32 = new Uint8Array(4);
  readonly u32View = new DataView(this.u32.buffer);

  /** Read `size` bytes (<= 16 KiB) at gva into the scratch; its view, or null on a fault. */
  readStruct(mem: GuestMemory, gva: number, size: number): DataView | null {
    if (size > SCRATCH) return null;
    return mem.read(gva, this.buf, size) ? this.view : null;
  }

  /** A zeroed output buffer of `size` bytes to fill and then write with writeOut. */
  out(size: number): DataView {
    this.outBuf.fill(0, 0, size);
    return this.outView;
  }

  writeOut(mem: GuestMemory, gva: number, size: number): boolean {
    return mem.write(gva, this.outBuf, size);
  }

  /** Write back `size` bytes of the input scratch (IN/OUT structs updated in place). */
  writeBack(mem: GuestMemory, gva: number, size: number): boolean {
    return mem.write(gva, this.buf, size);
  }

  readU32(mem: GuestMemory, gva: number): number | null {
    return mem.read(gva, this.u32, 4) ? this.u32View.getUint32(0, true) : null;
  }

  writeU32(mem: GuestMemory, gva: number, value: number): boolean {
    this.u32View.setUint32(0, value >>> 0, true);
    return mem.write(gva, this.u32, 4);
  }
}

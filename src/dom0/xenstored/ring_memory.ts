/**
 * How xenstored touches a domain's ring page. The page is guest memory: in the embedded
 * host dom0 reaches it through a foreign mapping and copies bytes through its hypercall
 * port; in tests and for native domains sharing a SharedArrayBuffer it is a plain
 * Uint8Array view. The ring transport only needs these four operations.
 *
 * Invariants: offsets are within the 4096-byte page; u32 values are little-endian; every
 * call reads or writes the page now (no caching), since the guest may change it at any time.
 */
import { XENSTORE_DOMAIN_INTERFACE_SIZE } from '../../abi/io/xs_wire.ts';

export interface XsRingMemory {
  getU32(off: number): number;
  setU32(off: number, value: number): void;
  /** Copy page bytes [off, off + len) to dst[dstOff ...]. */
  read(off: number, dst: Uint8Array, dstOff: number, len: number): void;
  /** Copy src[srcOff, srcOff + len) to the page at off. */
  write(off: number, src: Uint8Array, srcOff: number, len: number): void;
  /** Release the mapping (the domain was released); optional. */
  unmap?(): void;
}

/** A ring page the daemon can address directly. */
export function pageMemory(page: Uint8Array): XsRingMemory {
  if (page.length < XENSTORE_DOMAIN_INTERFACE_SIZE) {
    throw new RangeError(`xenstore ring page: need ${XENSTORE_DOMAIN_INTERFACE_SIZE} bytes, got ${page.length}`);
  }
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  return {
    getU32: (off) => v.getUint32(off, true),
    setU32: (off, value) => v.setUint32(off, value >>> 0, true),
    read: (off, dst, dstOff, len) => dst.set(page.subarray(off, off + len), dstOff),
    write: (off, src, srcOff, len) => page.set(src.subarray(srcOff, srcOff + len), off),
  };
}

/**
 * A page reached by copies, such as dom0's ForeignMap (libxc): `read(0, off, len)` and
 * `write(0, off, bytes)` on mapped page 0.
 */
export interface CopyingPage {
  read(page: number, off: number, len: number): Uint8Array;
  write(page: number, off: number, bytes: Uint8Array): void;
  unmap(): void;
}

export function copyingMemory(p: CopyingPage): XsRingMemory {
  const word = new Uint8Array(4);
  return {
    getU32: (off) => {
      const b = p.read(0, off, 4);
      return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0; // SAFETY: 4 bytes read
    },
    setU32: (off, value) => {
      word[0] = value;
      word[1] = value >>> 8;
      word[2] = value >>> 16;
      word[3] = value >>> 24;
      p.write(0, off, word);
    },
    read: (off, dst, dstOff, len) => dst.set(p.read(0, off, len), dstOff),
    write: (off, src, srcOff, len) => p.write(0, off, src.subarray(srcOff, srcOff + len)),
    unmap: () => p.unmap(),
  };
}

export function asRingMemory(page: Uint8Array | XsRingMemory): XsRingMemory {
  return page instanceof Uint8Array ? pageMemory(page) : page;
}

/**
 * How the console daemon touches a guest's console ring page (struct xencons_interface,
 * io/console.h): the four free-running indexes and the two byte rings. In dom0 the page is
 * a foreign mapping reached through a zero-copy view of the machine frame (writes followed
 * by written(), for code coherence); tests use a plain page.
 *
 * Invariants: offsets are within the 4 KiB page; every index is read from the page each
 * time (the guest may change it at any moment) and never trusted beyond the ring sizes.
 */
import {
  XENCONS_INTERFACE_IN, XENCONS_INTERFACE_IN_CONS, XENCONS_INTERFACE_OUT,
} from '../../abi/io/console.ts';
import type { Xc } from '../libxc/xc.ts';
import { ForeignMap } from '../libxc/foreign.ts';

export interface ConsoleRing {
  u32(off: number): number;
  setU32(off: number, v: number): void;
  /** Byte `i` of the out ring (guest -> backend). */
  outByte(i: number): number;
  /** Store byte `b` at index `i` of the in ring (backend -> guest). */
  setInByte(i: number, b: number): void;
  /** Make the in-ring stores since the last call visible (code coherence). */
  flushIn(): void;
  unmap(): void;
}

/** A ring over a page the caller owns (tests; a native domain's own page). */
export function pageRing(page: Uint8Array, onWrite: (off: number, len: number) => void = () => {}, onUnmap = (): void => {}): ConsoleRing {
  const v = new DataView(page.buffer, page.byteOffset, 4096);
  return {
    u32: (off) => v.getUint32(off, true),
    setU32: (off, x) => {
      v.setUint32(off, x >>> 0, true);
      onWrite(off, 4);
    },
    outByte: (i) => page[XENCONS_INTERFACE_OUT + i]!,
    setInByte: (i, b) => {
      page[XENCONS_INTERFACE_IN + i] = b;
    },
    flushIn: () => onWrite(XENCONS_INTERFACE_IN, XENCONS_INTERFACE_IN_CONS - XENCONS_INTERFACE_IN),
    unmap: onUnmap,
  };
}

/** `domid`'s ring frame `gfn` (its MFN for a PV guest), foreign-mapped into dom0. */
export function foreignRing(xc: Xc, domid: number, gfn: number): ConsoleRing {
  const map = ForeignMap.map(xc, domid, [gfn]);
  const gpa = map.gpa(0);
  const page = xc.port.view(gpa, 4096, true);
  if (page === null) {
    map.unmap();
    throw new Error(`console ring of d${domid}: no view of the mapped frame`);
  }
  return pageRing(page, (off, len) => xc.port.written(gpa + off, len), () => map.unmap());
}

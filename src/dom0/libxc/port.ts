/**
 * The one object through which a native domain (dom0, a driver domain) reaches the
 * hypervisor. dom0 depends only on this interface and src/abi; src/host wires the
 * hypervisor's concrete port (src/xen/arch/x86/native.ts NativePort satisfies it).
 *
 * Model: the domain has real machine frames seen as a pseudo-physical space (pfn 0 up).
 * A hypercall takes the same five 32-bit arguments a PV guest passes in EBX..EDI; a guest
 * handle is a pseudo-physical address into the domain's own memory, which the domain fills
 * with read()/write() before the call (libxc's bounce buffers do the same through privcmd).
 */
export interface HypercallPort {
  readonly domid: number;
  /** Pages of RAM at pseudo-physical frames 0 .. ramPages-1. */
  readonly ramPages: number;
  /** Issue hypercall `nr`; returns the signed 32-bit result (-errno on failure). */
  hypercall(nr: number, a1?: number, a2?: number, a3?: number, a4?: number, a5?: number): number;
  /** Copy from the domain's pseudo-physical memory; false if a page is not mapped. */
  read(gpa: number, dst: Uint8Array, len?: number): boolean;
  /** Copy into the domain's pseudo-physical memory; false if a page is not mapped. */
  write(gpa: number, src: Uint8Array, len?: number): boolean;
  /**
   * A live, zero-copy view of `len` bytes at pseudo-physical `gpa` (within one page), or
   * null if nothing is mapped there (or, with `write`, the page may only be read: a
   * read-only grant mapping). After writing through a view call written().
   */
  view(gpa: number, len: number, write?: boolean): Uint8Array | null;
  /** Bytes [gpa, gpa + len) of a view were written: keeps decoded guest code coherent. */
  written(gpa: number, len: number): void;
  /** Called when the domain's evtchn_upcall_pending goes 0 -> 1 (between scheduler slices). */
  setEventHandler(fn: (() => void) | null): void;
}

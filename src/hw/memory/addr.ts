/**
 * Branded number spaces of the emulated machine. A bare `number` never crosses a module
 * boundary where one of these is meant: a machine address is not a guest-physical
 * address is not a linear address.
 *
 *  - Maddr: a byte address in machine memory (what the CPU puts on its bus after paging
 *    and, for HVM guests, after the second-stage gfn -> mfn translation).
 *  - Mfn:   a 4 KiB machine frame number (Maddr >> 12).
 *  - Gpa/Gfn: guest-physical address / frame, only meaningful for a CPU in HVM mode whose
 *    second stage maps them to machine frames.
 *  - Lin:   a linear (virtual, post-segmentation) address, as an unsigned 32-bit value.
 *
 * All are non-negative integers below 2^32 (machine memory is below 2 GiB, so Maddr and
 * Mfn also fit in a positive int32).
 */
export type Maddr = number & { readonly __brand: 'Maddr' };
export type Mfn = number & { readonly __brand: 'Mfn' };
export type Gpa = number & { readonly __brand: 'Gpa' };
export type Gfn = number & { readonly __brand: 'Gfn' };
export type Lin = number & { readonly __brand: 'Lin' };

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

// The casts below are the one place a plain number becomes a branded address.
export const maddr = (n: number): Maddr => n as Maddr;
export const mfn = (n: number): Mfn => n as Mfn;
export const gpa = (n: number): Gpa => n as Gpa;
export const gfn = (n: number): Gfn => n as Gfn;
export const lin = (n: number): Lin => (n >>> 0) as Lin;
export const mfnToMaddr = (f: Mfn): Maddr => (f * PAGE_SIZE) as Maddr;
export const maddrToMfn = (a: Maddr): Mfn => Math.floor(a / PAGE_SIZE) as Mfn;

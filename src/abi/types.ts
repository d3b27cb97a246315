/**
 * Branded number types for the ABI's distinct number spaces.
 *
 * Xen keeps mfn_t and gfn_t apart because mixing them is the classic PV bug (a PFN written
 * where an MFN belongs maps the wrong frame, silently). These brands do the same at zero run
 * time cost: a `Mfn` is a `number` the compiler refuses to accept where a `Gfn` is expected.
 * A bare `number` must not cross a module boundary where one of these is meant.
 *
 * Invariants:
 * - The `as*` casts are unchecked on purpose: they sit on hot paths where the value has
 *   already been range-checked (or came out of a typed array of that space). Each is the one
 *   place its `as` is justified.
 * - The `is*` predicates are the range checks to run on guest-controlled input before the
 *   cast; they never throw.
 * - Frame numbers are < 2^32 here: a 32-bit PAE guest names frames with 32-bit values
 *   (xen_pfn_t is 4 bytes); PTE-carried frames above that are extracted as numbers too
 *   (PAE physical addresses have at most 52 bits, well inside a double's 53).
 */

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A domain id (`domid_t`, u16). Real domains are < DOMID_FIRST_RESERVED (0x7FF0). */
export type DomId = Brand<number, 'DomId'>;
/** An event channel port of one domain (`evtchn_port_t`, u32). */
export type EvtchnPort = Brand<number, 'EvtchnPort'>;
/** An index into a granting domain's grant table (`grant_ref_t`, u32). */
export type GrantRef = Brand<number, 'GrantRef'>;
/** A grant-mapping handle returned by GNTTABOP_map_grant_ref (`grant_handle_t`, u32). */
export type GrantHandle = Brand<number, 'GrantHandle'>;
/** A virtual CPU index within its domain (u32 in the ABI). */
export type VcpuId = Brand<number, 'VcpuId'>;
/** A machine frame number: a 4 KiB frame of the (emulated) machine's memory. */
export type Mfn = Brand<number, 'Mfn'>;
/** A guest frame number as the guest names it in hypercalls (== Mfn for PV, == Pfn for HVM). */
export type Gfn = Brand<number, 'Gfn'>;
/** A pseudo-physical frame number: an index into a PV guest's p2m. */
export type Pfn = Brand<number, 'Pfn'>;
/** A machine (physical) byte address, e.g. mmu_update.ptr or start_info.shared_info. */
export type Maddr = Brand<number, 'Maddr'>;
/** A guest virtual address: guest handles and other pointers in hypercall arguments. */
export type Gva = Brand<number, 'Gva'>;
/** A guest physical byte address (HVM, or a PV guest's pseudo-physical space). */
export type Gpa = Brand<number, 'Gpa'>;

const U16 = 0xffff;
const U32 = 0xffffffff;

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= U32;
}

// SAFETY (all as* below): unchecked by design; callers range-check guest input with is*.
export const asDomId = (n: number): DomId => n as DomId;
export const asEvtchnPort = (n: number): EvtchnPort => n as EvtchnPort;
export const asGrantRef = (n: number): GrantRef => n as GrantRef;
export const asGrantHandle = (n: number): GrantHandle => n as GrantHandle;
export const asVcpuId = (n: number): VcpuId => n as VcpuId;
export const asMfn = (n: number): Mfn => n as Mfn;
export const asGfn = (n: number): Gfn => n as Gfn;
export const asPfn = (n: number): Pfn => n as Pfn;
export const asMaddr = (n: number): Maddr => n as Maddr;
export const asGva = (n: number): Gva => n as Gva;
export const asGpa = (n: number): Gpa => n as Gpa;

/** True if `n` fits `domid_t` (it may still be a reserved id such as DOMID_SELF). */
export const isDomId = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= U16;
export const isEvtchnPort = isU32;
export const isGrantRef = isU32;
export const isVcpuId = isU32;
/** True if `n` is a frame number a 32-bit guest can name. */
export const isFrame = isU32;

/** The machine address of the first byte of a frame. */
export const mfnToMaddr = (m: Mfn): Maddr => (m * 4096) as Maddr;
/** The frame holding a machine address. */
export const maddrToMfn = (a: Maddr): Mfn => Math.floor(a / 4096) as Mfn;

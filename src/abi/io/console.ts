/**
 * The PV console ring (io/console.h; C header: xen/io/console.h): one page shared between a
 * guest and its console backend.
 *
 * Layout: in[1024] (backend → guest) @0, out[2048] (guest → backend) @1024, then the four
 * u32 indexes @3072 and (Xen 4.21+) `connection` @3088.
 *
 * Invariants:
 * - Indexes are free-running u32 byte counts; byte x of a stream lives at
 *   buf[x & (sizeof buf - 1)] (MASK_XENCONS_IDX).
 * - Valid state: prod - cons <= sizeof buf (u32); a backend ignores a ring that violates it.
 * - The writer copies bytes, write barrier, then advances its producer and notifies; the
 *   reader copies, barrier, advances its consumer and notifies.
 * - A PV domU finds the page and port in start_info.console.domU; HVM guests in
 *   HVM_PARAM_CONSOLE_PFN / _EVTCHN; dom0 uses console_io instead.
 * - Source: shared/abi/pv-devices.md §2.
 */
import { alias, arr, char, f, struct, u32 } from '../layout.ts';

export * from '../gen/io/console.ts';

/** `XENCONS_RING_IDX`: a free-running console index. */
export const XENCONS_RING_IDX = alias('XENCONS_RING_IDX', u32);

/** Bytes in the input (backend → guest) buffer. */
export const XENCONS_IN_SIZE = 1024;
/** Bytes in the output (guest → backend) buffer. */
export const XENCONS_OUT_SIZE = 2048;

/** `connection` values (Xen 4.21+). */
export const XENCONSOLE_CONNECTED = 0;
export const XENCONSOLE_DISCONNECTED = 1;

export const xencons_interface = struct('xencons_interface', [
  arr('in', char, XENCONS_IN_SIZE, 'input: written by the backend'),
  arr('out', char, XENCONS_OUT_SIZE, 'output: written by the guest'),
  f('in_cons', XENCONS_RING_IDX, 'written by the guest'),
  f('in_prod', XENCONS_RING_IDX, 'written by the backend'),
  f('out_cons', XENCONS_RING_IDX, 'written by the backend'),
  f('out_prod', XENCONS_RING_IDX, 'written by the guest'),
  f('connection', u32, 'Xen 4.21+: XENCONSOLE_*; 3.x ends before this (3088 bytes)'),
], { size: 3092, typedef: null, doc: 'The console ring page.' });

/** MASK_XENCONS_IDX(idx, ring): byte index within a buffer of `ringSize` bytes. */
export const MASK_XENCONS_IDX = (idx: number, ringSize: number): number => idx & (ringSize - 1);

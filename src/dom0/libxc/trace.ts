/**
 * Reading the hypervisor's trace buffer as xentrace does: ask for its frames (sysctl
 * tbuf_op get_info), map them as DOMID_XEN's into dom0, decode the records (layout in
 * src/abi/control_wire.ts), unmap.
 */
import { DOMID_XEN } from '../../abi/xen.ts';
import { readTraceRecords, TRACE_MAGIC, type TraceRecord } from '../../abi/control_wire.ts';
import { type Xc, XcError } from './xc.ts';
import { ForeignMap } from './foreign.ts';

export interface XenTrace {
  /** Records ever made (records older than the ring's capacity are gone). */
  readonly total: number;
  readonly records: TraceRecord[];
}

/** The records with index >= `from`, oldest first. */
export function readXenTrace(xc: Xc, from = 0): XenTrace {
  const info = xc.traceInfo();
  if (typeof info === 'number') throw new XcError('sysctl tbuf_op get_info', info);
  const pages = Math.ceil(info.bytes / 4096);
  const map = ForeignMap.map(xc, DOMID_XEN, Array.from({ length: pages }, (_, i) => info.mfn + i));
  try {
    const bytes = new Uint8Array(pages * 4096);
    for (let i = 0; i < pages; i++) bytes.set(map.read(i, 0, 4096), i * 4096);
    const view = new DataView(bytes.buffer);
    if (view.getUint32(0, true) !== TRACE_MAGIC) throw new Error('the trace buffer has no TSXT header');
    return readTraceRecords(view, 0, from);
  } finally {
    map.unmap();
  }
}

/**
 * xenstore for native domains that are not dom0 (driver domains; the role of Xen's
 * libxenstore over the domain's ring): a protocol client (XsClient) over the domain's own
 * xenstore ring page, notified through its store event channel. dom0 itself talks to the
 * in-process daemon (XsLocalHandle) instead.
 *
 * The ring page is the domain's own frame reached through a zero-copy view; every write
 * the client makes is followed by written() (code coherence), as for any host write.
 *
 * Invariants: the client owns req_prod and rsp_cons only (ring_frontend.ts); closing it
 * unbinds the store port.
 */
import { XsClient, RingFrontend, type XsRingMemory } from '../xenstored/index.ts';
import type { Xc } from '../libxc/xc.ts';
import type { XenEvtchn } from './evtchn.ts';

/** The ring page at pseudo-physical frame `gfn` as xenstored-ring memory (views, coherent writes). */
export function viewRingMemory(xc: Xc, gfn: number): XsRingMemory {
  const page = xc.port.view(gfn * 4096, 4096, true);
  if (page === null) throw new Error(`xenstore ring page ${gfn} is not mapped`);
  const v = new DataView(page.buffer, page.byteOffset, 4096);
  const base = gfn * 4096;
  return {
    getU32: (off) => v.getUint32(off, true),
    setU32: (off, value) => {
      v.setUint32(off, value >>> 0, true);
      xc.port.written(base + off, 4);
    },
    read: (off, dst, dstOff, len) => dst.set(page.subarray(off, off + len), dstOff),
    write: (off, src, srcOff, len) => {
      page.set(src.subarray(srcOff, srcOff + len), off);
      xc.port.written(base + off, len);
    },
  };
}

/**
 * Connect to xenstored over our ring: `gfn` is our ring page and `port` our store port
 * (allocated for us by the toolstack, as a PV guest's start_info store_evtchn).
 */
export function openRingStore(xc: Xc, evtchn: XenEvtchn, gfn: number, port: number): XsClient {
  let handler: (() => void) | undefined;
  evtchn.adopt(port, () => handler?.());
  const frontend = new RingFrontend(viewRingMemory(xc, gfn), {
    notify: () => void evtchn.notify(port),
    onEvent: (h) => { handler = h; },
  });
  return new XsClient(frontend);
}

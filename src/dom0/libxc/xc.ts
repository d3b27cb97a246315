/**
 * dom0's hypercall client (the role of libxc/libxenctrl): typed wrappers that marshal
 * arguments into dom0's own frames, issue the hypercall through the port, and decode the
 * results. Every call is the same hypercall a PV kernel would make, checked the same way.
 *
 * dom0's pseudo-physical layout (pfns):
 *   0 .. SCRATCH_PAGES-1     argument scratch (bump-allocated per top-level call)
 *   SHARED_INFO_PFN          dom0's shared_info, mapped with XENMEM_add_to_physmap
 *   FOREIGN_BASE ..          foreign mappings (foreign.ts)
 *
 * Invariants: a wrapper never leaves scratch allocations live after it returns; results
 * are copied out before the next call. Errors are returned as -errno, never thrown,
 * except for programming errors (scratch overflow).
 */
import { getSystemErrorName } from 'node:util';
import { __HYPERVISOR_domctl, __HYPERVISOR_event_channel_op, __HYPERVISOR_memory_op, __HYPERVISOR_mmuext_op,
  __HYPERVISOR_sysctl, DOMID_SELF, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE, MMUEXT_PIN_L3_TABLE, MMUEXT_UNPIN_TABLE,
} from '../../abi/xen.ts';
import {
  DOMCTL_CREATEDOMAIN, DOMCTL_GETDOMAININFO, DOMCTL_HDR, DOMCTL_IOPORT_PERMISSION, DOMCTL_U32, DOMCTL_U64, DOMCTL_VCPUCONTEXT,
  SYSCTL_HDR, SYSCTL_PHYSINFO, SYSCTL_READCONSOLE, SYSCTL_TBUF_OP, XEN_SYSCTL_TBUFOP_get_info,
  XEN_SYSCTL_TBUFOP_set_evt_mask, XEN_DOMCTL_INTERFACE_VERSION_WIRE, XEN_DOMCTL_WIRE_SIZE,
  XEN_DOMCTL_WIRE_U, XEN_SYSCTL_INTERFACE_VERSION_WIRE, XEN_SYSCTL_WIRE_SIZE, XEN_SYSCTL_WIRE_U,
} from '../../abi/control_wire.ts';
import {
  XEN_DOMCTL_createdomain, XEN_DOMCTL_destroydomain, XEN_DOMCTL_getdomaininfo, XEN_DOMCTL_hypercall_init,
  XEN_DOMCTL_ioport_permission,
  XEN_DOMCTL_max_mem, XEN_DOMCTL_pausedomain, XEN_DOMCTL_setvcpucontext, XEN_DOMCTL_unpausedomain,
  XEN_DOMCTL_getvcpucontext, XEN_DOMCTL_max_vcpus, XEN_DOMINF_shutdownshift, XEN_DOMINF_shutdownmask,
} from '../../abi/domctl.ts';
import { XEN_SYSCTL_physinfo, XEN_SYSCTL_readconsole, XEN_SYSCTL_tbuf_op } from '../../abi/sysctl.ts';
import {
  EVTCHNOP_alloc_unbound, EVTCHNOP_bind_interdomain, EVTCHNOP_bind_virq, EVTCHNOP_close, EVTCHNOP_send, EVTCHNOP_unmask,
} from '../../abi/event_channel.ts';
import {
  XENMAPSPACE_gmfn_foreign, XENMAPSPACE_shared_info, XENMEM_add_to_physmap, XENMEM_add_to_physmap_batch,
  XENMEM_populate_physmap, XENMEM_remove_from_physmap, XENMEM_set_memory_map,
} from '../../abi/memory.ts';

/** e820 type of usable RAM. */
const E820_RAM = 1;
import { EINVAL, ENOMEM } from '../../abi/errno.ts';
import type { HypercallPort } from './port.ts';

export const SCRATCH_PAGES = 32;
export const SHARED_INFO_PFN = 0x20000;
export const FOREIGN_BASE = 0x20100;
export const FOREIGN_END = 0x3ff00;

/** A domain's getdomaininfo record. */
export interface DomainInfo {
  domid: number;
  flags: number;
  shutdownCode: number;
  totPages: number;
  maxPages: number;
  sharedInfoFrame: number;
  cpuTimeNs: number;
  onlineVcpus: number;
  maxVcpuId: number;
}

export class XcError extends Error {
  override name = 'XcError';
  constructor(what: string, readonly rc: number) {
    super(`${what} failed: ${rc}${errnoSuffix(rc)}`);
  }
}

/** " (EINVAL)" for -22: Xen's errno numbers are Linux's, which Node can name. */
function errnoSuffix(rc: number): string {
  try {
    return rc < 0 ? ` (${getSystemErrorName(rc)})` : '';
  } catch {
    return '';
  }
}

/** Scratch starts past page 0, so no argument ever has the (NULL) address 0. */
const SCRATCH_BASE = 4096;

export class Xc {
  private _scratchTop = SCRATCH_BASE;
  private _foreignNext = FOREIGN_BASE;
  private readonly _freeRuns: Array<[number, number]> = [];

  constructor(readonly port: HypercallPort) {
    if (port.ramPages < SCRATCH_PAGES) throw new Error(`dom0 needs at least ${SCRATCH_PAGES} pages of RAM`);
  }

  get domid(): number {
    return this.port.domid;
  }

  // ---- scratch memory --------------------------------------------------------------------

  /** Reserve `size` bytes of argument scratch; returns its pseudo-physical address. */
  scratch(size: number): number {
    const a = (this._scratchTop + 7) & ~7;
    if (a + size > SCRATCH_PAGES * 4096) throw new Error(`dom0 hypercall scratch overflow (${size} bytes)`);
    this._scratchTop = a + size;
    return a;
  }

  /** Run `f` with a fresh scratch area (nested calls keep their parent's allocations). */
  withScratch<T>(f: () => T): T {
    const top = this._scratchTop;
    try {
      return f();
    } finally {
      this._scratchTop = top;
    }
  }

  put(gpa: number, bytes: Uint8Array): void {
    if (!this.port.write(gpa, bytes)) throw new Error(`dom0 scratch write at ${gpa} failed`);
  }

  get(gpa: number, len: number): DataView {
    const b = new Uint8Array(len);
    if (!this.port.read(gpa, b)) throw new Error(`dom0 scratch read at ${gpa} failed`);
    return new DataView(b.buffer);
  }

  /** Put a struct built by `fill` into scratch; returns [address, view]. */
  struct(size: number, fill: (v: DataView) => void): number {
    const b = new Uint8Array(size);
    fill(new DataView(b.buffer));
    const a = this.scratch(size);
    this.put(a, b);
    return a;
  }

  u32Array(values: ArrayLike<number>): number {
    return this.struct(values.length * 4, (v) => {
      for (let i = 0; i < values.length; i++) v.setUint32(i * 4, values[i]! >>> 0, true);
    });
  }

  readU32Array(gpa: number, n: number): number[] {
    const v = this.get(gpa, n * 4);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(v.getUint32(i * 4, true));
    return out;
  }

  // ---- domctl / sysctl --------------------------------------------------------------------

  /** Issue a domctl; `fill` writes the payload (offsets relative to the union). */
  domctl(cmd: number, domid: number, fill?: (v: DataView, u: number) => void): { rc: number; out: DataView } {
    return this.withScratch(() => {
      const a = this.struct(XEN_DOMCTL_WIRE_SIZE, (v) => {
        v.setUint32(DOMCTL_HDR.cmd!, cmd, true);
        v.setUint32(DOMCTL_HDR.interface_version!, XEN_DOMCTL_INTERFACE_VERSION_WIRE, true);
        v.setUint16(DOMCTL_HDR.domain!, domid, true);
        fill?.(v, XEN_DOMCTL_WIRE_U);
      });
      const rc = this.port.hypercall(__HYPERVISOR_domctl, a);
      return { rc, out: this.get(a, XEN_DOMCTL_WIRE_SIZE) };
    });
  }

  sysctl(cmd: number, fill?: (v: DataView, u: number) => void): { rc: number; out: DataView } {
    return this.withScratch(() => {
      const a = this.struct(XEN_SYSCTL_WIRE_SIZE, (v) => {
        v.setUint32(SYSCTL_HDR.cmd!, cmd, true);
        v.setUint32(SYSCTL_HDR.interface_version!, XEN_SYSCTL_INTERFACE_VERSION_WIRE, true);
        fill?.(v, XEN_SYSCTL_WIRE_U);
      });
      const rc = this.port.hypercall(__HYPERVISOR_sysctl, a);
      return { rc, out: this.get(a, XEN_SYSCTL_WIRE_SIZE) };
    });
  }

  /** Create a PV domain; returns its id or -errno. */
  createDomain(opts: {
    maxVcpus: number; domid?: number; handle?: Uint8Array; ssidref?: number;
    /** xl.cfg max_event_channels (the highest port; default 1023). */
    maxEvtchnPort?: number;
    /** xl.cfg max_grant_frames / max_maptrack_frames (-1: the hypervisor's defaults). */
    maxGrantFrames?: number;
    maxMaptrackFrames?: number;
  }): number {
    const C = DOMCTL_CREATEDOMAIN;
    const { rc, out } = this.domctl(XEN_DOMCTL_createdomain, opts.domid ?? 0, (v, u) => {
      v.setUint32(u + C.ssidref!, opts.ssidref ?? 0, true);
      if (opts.handle) for (let i = 0; i < 16; i++) v.setUint8(u + C.handle! + i, opts.handle[i] ?? 0);
      v.setUint32(u + C.max_vcpus!, opts.maxVcpus, true);
      v.setUint32(u + C.max_evtchn_port!, opts.maxEvtchnPort ?? 1023, true);
      v.setInt32(u + C.max_grant_frames!, opts.maxGrantFrames ?? -1, true);
      v.setInt32(u + C.max_maptrack_frames!, opts.maxMaptrackFrames ?? -1, true);
    });
    return rc < 0 ? rc : out.getUint16(DOMCTL_HDR.domain!, true);
  }

  destroyDomain(domid: number): number {
    return this.domctl(XEN_DOMCTL_destroydomain, domid).rc;
  }

  pauseDomain(domid: number): number {
    return this.domctl(XEN_DOMCTL_pausedomain, domid).rc;
  }

  unpauseDomain(domid: number): number {
    return this.domctl(XEN_DOMCTL_unpausedomain, domid).rc;
  }

  setMaxMem(domid: number, kb: number): number {
    return this.domctl(XEN_DOMCTL_max_mem, domid, (v, u) => {
      v.setUint32(u + DOMCTL_U64.value!, kb % 0x100000000, true);
      v.setUint32(u + DOMCTL_U64.value! + 4, Math.floor(kb / 0x100000000), true);
    }).rc;
  }

  hypercallInit(domid: number, gmfn: number): number {
    return this.domctl(XEN_DOMCTL_hypercall_init, domid, (v, u) => v.setUint32(u + DOMCTL_U64.value!, gmfn, true)).rc;
  }

  /** Info of the first domain with id >= domid (Xen's getdomaininfo), or null. */
  getDomainInfo(domid: number): DomainInfo | null {
    const { rc, out } = this.domctl(XEN_DOMCTL_getdomaininfo, domid);
    if (rc < 0) return null;
    const G = DOMCTL_GETDOMAININFO, u = XEN_DOMCTL_WIRE_U;
    const flags = out.getUint32(u + G.flags!, true);
    const u64 = (o: number): number => out.getUint32(u + o, true) + out.getUint32(u + o + 4, true) * 0x100000000;
    return {
      domid: out.getUint16(u + G.domain!, true),
      flags,
      shutdownCode: (flags >>> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
      totPages: u64(G.tot_pages!),
      maxPages: u64(G.max_pages!),
      sharedInfoFrame: u64(G.shared_info_frame!),
      cpuTimeNs: u64(G.cpu_time!),
      onlineVcpus: out.getUint32(u + G.nr_online_vcpus!, true),
      maxVcpuId: out.getInt32(u + G.max_vcpu_id!, true),
    };
  }

  /** sysctl tbuf_op get_info: the trace buffer's first frame, size (bytes) and event mask. */
  traceInfo(): { mfn: number; bytes: number; mask: number } | number {
    const { rc, out } = this.sysctl(XEN_SYSCTL_tbuf_op, (v, u) => v.setUint32(u + SYSCTL_TBUF_OP.cmd!, XEN_SYSCTL_TBUFOP_get_info, true));
    if (rc < 0) return rc;
    const u = XEN_SYSCTL_WIRE_U, T = SYSCTL_TBUF_OP;
    return {
      mfn: out.getUint32(u + T.buffer_mfn!, true) + out.getUint32(u + T.buffer_mfn! + 4, true) * 0x100000000,
      bytes: out.getUint32(u + T.size!, true), mask: out.getUint32(u + T.evt_mask!, true),
    };
  }

  /** sysctl tbuf_op set_evt_mask: which event classes the hypervisor records. */
  setTraceMask(mask: number): number {
    return this.sysctl(XEN_SYSCTL_tbuf_op, (v, u) => {
      v.setUint32(u + SYSCTL_TBUF_OP.cmd!, XEN_SYSCTL_TBUFOP_set_evt_mask, true);
      v.setUint32(u + SYSCTL_TBUF_OP.evt_mask!, mask >>> 0, true);
    }).rc;
  }

  /** xc_domain_ioport_permission: grant (or revoke) ports [first, first + n). */
  ioportPermission(domid: number, first: number, n: number, allow: boolean): number {
    return this.domctl(XEN_DOMCTL_ioport_permission, domid, (v, u) => {
      v.setUint32(u + DOMCTL_IOPORT_PERMISSION.first_port!, first, true);
      v.setUint32(u + DOMCTL_IOPORT_PERMISSION.nr_ports!, n, true);
      v.setUint8(u + DOMCTL_IOPORT_PERMISSION.allow_access!, allow ? 1 : 0);
    }).rc;
  }

  /** setvcpucontext with a 2800-byte vcpu_guest_context. */
  setVcpuContext(domid: number, vcpu: number, ctxt: Uint8Array): number {
    return this.withScratch(() => {
      const c = this.scratch(ctxt.length);
      this.put(c, ctxt);
      return this.domctl(XEN_DOMCTL_setvcpucontext, domid, (v, u) => {
        v.setUint32(u + DOMCTL_VCPUCONTEXT.vcpu!, vcpu, true);
        v.setUint32(u + DOMCTL_VCPUCONTEXT.ctxt!, c, true);
      }).rc;
    });
  }

  getVcpuContext(domid: number, vcpu: number): Uint8Array | number {
    return this.withScratch(() => {
      const c = this.scratch(2800);
      const rc = this.domctl(XEN_DOMCTL_getvcpucontext, domid, (v, u) => {
        v.setUint32(u + DOMCTL_VCPUCONTEXT.vcpu!, vcpu, true);
        v.setUint32(u + DOMCTL_VCPUCONTEXT.ctxt!, c, true);
      }).rc;
      if (rc < 0) return rc;
      return new Uint8Array(this.get(c, 2800).buffer);
    });
  }

  maxVcpus(domid: number, n: number): number {
    return this.domctl(XEN_DOMCTL_max_vcpus, domid, (v, u) => v.setUint32(u + DOMCTL_U32.value!, n, true)).rc;
  }

  /** xl dmesg: the hypervisor console from byte `index`; text and the next index. */
  readConsole(index = 0, clear = false): { text: string; next: number } {
    return this.withScratch(() => {
      const size = 16384;
      const buf = this.scratch(size);
      const R = SYSCTL_READCONSOLE;
      const { rc, out } = this.sysctl(XEN_SYSCTL_readconsole, (v, u) => {
        v.setUint8(u + R.clear!, clear ? 1 : 0);
        v.setUint8(u + R.incremental!, 1);
        v.setUint32(u + R.index!, index, true);
        v.setUint32(u + R.buffer!, buf, true);
        v.setUint32(u + R.count!, size, true);
      });
      if (rc < 0) throw new XcError('readconsole', rc);
      const u = XEN_SYSCTL_WIRE_U;
      const n = out.getUint32(u + R.count!, true);
      const text = this.get(buf, Math.max(n, 1));
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(text.getUint8(i));
      return { text: s, next: out.getUint32(u + R.index!, true) };
    });
  }

  physinfo(): { nrCpus: number; totalPages: number; freePages: number; cpuKhz: number } | number {
    const { rc, out } = this.sysctl(XEN_SYSCTL_physinfo);
    if (rc < 0) return rc;
    const P = SYSCTL_PHYSINFO, u = XEN_SYSCTL_WIRE_U;
    return {
      nrCpus: out.getUint32(u + P.nr_cpus!, true),
      totalPages: out.getUint32(u + P.total_pages!, true),
      freePages: out.getUint32(u + P.free_pages!, true),
      cpuKhz: out.getUint32(u + P.cpu_khz!, true),
    };
  }

  // ---- memory ------------------------------------------------------------------------------

  /**
   * XENMEM_populate_physmap for `domid`: extents of 2^order pages at the given PFNs.
   * Returns the MFNs (one per extent) or -errno / the short count as an error.
   */
  populatePhysmap(domid: number, pfns: readonly number[], order = 0): number[] | number {
    return this.withScratch(() => {
      const list = this.u32Array(pfns);
      const r = this.struct(20, (v) => {
        v.setUint32(0, list, true);
        v.setUint32(4, pfns.length, true);
        v.setUint32(8, order, true);
        v.setUint16(16, domid, true);
      });
      const done = this.port.hypercall(__HYPERVISOR_memory_op, XENMEM_populate_physmap, r);
      if (done !== pfns.length) return done < 0 ? done : -ENOMEM;
      return this.readU32Array(list, pfns.length);
    });
  }

  /**
   * xc_domain_set_memmap_limit: give a PV domain a one-entry memory map, RAM from 0 to
   * `kb` KiB (what XENMEM_memory_map then returns to it).
   */
  setMemmapLimit(domid: number, kb: number): number {
    return this.withScratch(() => {
      const bytes = kb * 1024;
      const entry = this.struct(20, (v) => {
        v.setUint32(8, bytes % 0x100000000, true);
        v.setUint32(12, Math.floor(bytes / 0x100000000), true);
        v.setUint32(16, E820_RAM, true);
      });
      const fmap = this.struct(12, (v) => {
        v.setUint16(0, domid, true);
        v.setUint32(4, 1, true);
        v.setUint32(8, entry, true);
      });
      return this.port.hypercall(__HYPERVISOR_memory_op, XENMEM_set_memory_map, fmap);
    });
  }

  /** Reserve `n` contiguous pseudo-physical frames for foreign mappings. */
  allocForeignPfns(n: number): number {
    for (let i = 0; i < this._freeRuns.length; i++) {
      const [base, len] = this._freeRuns[i]!;
      if (len >= n) {
        if (len === n) this._freeRuns.splice(i, 1);
        else this._freeRuns[i] = [base + n, len - n];
        return base;
      }
    }
    if (this._foreignNext + n > FOREIGN_END) return -ENOMEM;
    const base = this._foreignNext;
    this._foreignNext += n;
    return base;
  }

  freeForeignPfns(base: number, n: number): void {
    this._freeRuns.push([base, n]);
  }

  /**
   * Map frames `gfns` of `domid` at dom0 pfns base..base+n-1 (XENMAPSPACE_gmfn_foreign).
   * Returns per-frame errors (0 = mapped).
   */
  mapForeignAt(domid: number, gfns: readonly number[], base: number): number[] | number {
    return this.withScratch(() => {
      const n = gfns.length;
      const idxs = this.u32Array(gfns);
      const gpfns = this.u32Array(gfns.map((_, i) => base + i));
      const errs = this.scratch(n * 4);
      const a = this.struct(24, (v) => {
        v.setUint16(0, DOMID_SELF, true);
        v.setUint16(2, n, true);
        v.setUint32(4, XENMAPSPACE_gmfn_foreign, true);
        v.setUint32(8, idxs, true);
        v.setUint32(12, gpfns, true);
        v.setUint32(16, errs, true);
        v.setUint16(20, domid, true);
      });
      const rc = this.port.hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap_batch, a);
      if (rc < 0) return rc;
      return this.readU32Array(errs, n).map((e) => e | 0);
    });
  }

  /** XENMEM_remove_from_physmap of one of dom0's pfns. */
  unmapPfn(pfn: number): number {
    return this.withScratch(() => {
      const a = this.struct(8, (v) => {
        v.setUint16(0, DOMID_SELF, true);
        v.setUint32(4, pfn, true);
      });
      return this.port.hypercall(__HYPERVISOR_memory_op, XENMEM_remove_from_physmap, a);
    });
  }

  /** Map dom0's own shared_info page at SHARED_INFO_PFN. */
  mapSharedInfo(): number {
    return this.withScratch(() => {
      const a = this.struct(16, (v) => {
        v.setUint16(0, DOMID_SELF, true);
        v.setUint32(4, XENMAPSPACE_shared_info, true);
        v.setUint32(8, 0, true);
        v.setUint32(12, SHARED_INFO_PFN, true);
      });
      return this.port.hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, a);
    });
  }

  /** Pin (level 1-3) or unpin (level 0) a page table of `domid`. */
  pinTable(domid: number, level: number, mfn: number): number {
    const cmd = [MMUEXT_UNPIN_TABLE, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE, MMUEXT_PIN_L3_TABLE][level];
    if (cmd === undefined) return -EINVAL;
    return this.withScratch(() => {
      const op = this.struct(12, (v) => {
        v.setUint32(0, cmd, true);
        v.setUint32(4, mfn, true);
      });
      return this.port.hypercall(__HYPERVISOR_mmuext_op, op, 1, 0, domid);
    });
  }

  // ---- event channels -------------------------------------------------------------------------

  private _evtchn(cmd: number, size: number, fill: (v: DataView) => void, outOff: number): number {
    return this.withScratch(() => {
      const a = this.struct(size, fill);
      const rc = this.port.hypercall(__HYPERVISOR_event_channel_op, cmd, a);
      if (rc < 0 || outOff < 0) return rc;
      return this.get(a, size).getUint32(outOff, true);
    });
  }

  /** A port of `dom` that `remote` may bind; returns the port or -errno. */
  allocUnbound(dom: number, remote: number): number {
    return this._evtchn(EVTCHNOP_alloc_unbound, 8, (v) => {
      v.setUint16(0, dom, true);
      v.setUint16(2, remote, true);
    }, 4);
  }

  bindInterdomain(remoteDom: number, remotePort: number): number {
    return this._evtchn(EVTCHNOP_bind_interdomain, 12, (v) => {
      v.setUint16(0, remoteDom, true);
      v.setUint32(4, remotePort, true);
    }, 8);
  }

  /** Bind global/per-vCPU VIRQ `virq` on vCPU `vcpu`; returns the port or -errno. */
  bindVirq(virq: number, vcpu = 0): number {
    return this._evtchn(EVTCHNOP_bind_virq, 12, (v) => {
      v.setUint32(0, virq, true);
      v.setUint32(4, vcpu, true);
    }, 8);
  }

  notify(port: number): number {
    return this._evtchn(EVTCHNOP_send, 4, (v) => v.setUint32(0, port, true), -1);
  }

  unmask(port: number): number {
    return this._evtchn(EVTCHNOP_unmask, 4, (v) => v.setUint32(0, port, true), -1);
  }

  closePort(port: number): number {
    return this._evtchn(EVTCHNOP_close, 4, (v) => v.setUint32(0, port, true), -1);
  }
}

/**
 * xl save for a running PV domain, following Xen's PV suspend protocol and libxc's saver:
 *
 *  1. ask the guest to suspend: control/shutdown = "suspend" in xenstore; the guest quiesces
 *     its devices, unmaps shared_info and grant frames, turns its store/console frames into
 *     PFNs and calls SCHEDOP_shutdown(SHUTDOWN_suspend) with its start_info MFN in EDX;
 *  2. read its p2m through the frame lists it published in shared_info
 *     (arch.pfn_to_mfn_frame_list_list, arch.max_pfn), invert it;
 *  3. stream every page (PAGE_DATA), page tables canonicalised (MFN -> PFN) and tagged with
 *     their type and pin state (XEN_DOMCTL_getpageframeinfo3);
 *  4. stream each online vCPU's context (CR3, GDT frames and vCPU 0's EDX canonicalised) and
 *     the shared_info page; END.
 *  5. then destroy the domain (xl save), or resume it (xl save -c: the suspend hypercall
 *     returns 1, "cancelled", and the guest carries on in place).
 *
 * Event channels, grants and device connections are not in the image: as on Xen, the guest
 * rebuilds them when it resumes in its new domain (minios: docs/minios.md "Suspend").
 *
 * Invariants: nothing is written to the guest; a failure after the guest suspended resumes
 * it (xl: "Failed to save domain, resuming domain"); pages are read in batches between
 * which the host serves other work.
 */
import { SHUTDOWN_suspend } from '../../abi/sched.ts';
import { SHARED_INFO_ARCH_MAX_PFN, SHARED_INFO_ARCH_PFN_TO_MFN_FRAME_LIST_LIST } from '../../abi/xen.ts';
import {
  XEN_DOMCTL_PFINFO_L1TAB, XEN_DOMCTL_PFINFO_L3TAB, XEN_DOMCTL_PFINFO_LTAB_SHIFT, XEN_DOMCTL_PFINFO_LTABTYPE_MASK,
  XEN_DOMCTL_PFINFO_XTAB,
} from '../../abi/domctl.ts';
import { VCPU_GUEST_CONTEXT_USER_REGS_EAX } from '../../abi/arch_x86_32.ts';
import { ForeignMap } from '../libxc/foreign.ts';
import type { Toolstack } from './toolstack.ts';
import { XlError } from './xl_error.ts';
import { formatXlConfig, type PvGuestConfig } from './xl_config.ts';
import { readKiB } from './toolstack_ops.ts';
import type { Guest } from './guest.ts';
import { domInfo, pageFrameTypes, resumeDomain, vcpuInfo, xenVersion } from './xc_domain.ts';
import { translatePageTable, translateVcpuContext } from './pv_canon.ts';
import {
  REC_TYPE_END, REC_TYPE_PAGE_DATA, REC_TYPE_SHARED_INFO, REC_TYPE_X86_PV_INFO, REC_TYPE_X86_PV_P2M_FRAMES,
  REC_TYPE_X86_PV_VCPU_BASIC, StreamWriter,
} from './save_format.ts';

export const INVALID_P2M_ENTRY = 0xffffffff;
/** Pages per PAGE_DATA record (libxc's batch size). */
export const SAVE_BATCH = 1024;
const P2M_PER_FRAME = 1024;

export interface SaveProgress {
  readonly phase: 'suspend' | 'memory' | 'vcpus' | 'done';
  readonly done: number;
  readonly total: number;
}

export interface SaveOptions {
  /** Leave the domain running (xl save -c). */
  readonly checkpoint?: boolean;
  /** Leave it paused after the save (xl save -p; implies it is kept). */
  readonly leavePaused?: boolean;
  /** Host milliseconds to wait for the guest to suspend (libxl waits 60 s). */
  readonly suspendTimeoutMs?: number;
  readonly onProgress?: (p: SaveProgress) => void;
  /** The xl.cfg text the image carries (xl save's third argument); default: the domain's own. */
  readonly config?: string;
  /** Between batches (the daemon lets its run loop work here). */
  readonly yieldFn?: () => Promise<void>;
  /** Called with xl's header words once written (xl prints "Saving to FILE new xl format (info ...)"). */
  readonly onHeader?: (h: { mandatoryFlags: number; optionalFlags: number; optionalDataLen: number }) => void;
}

/** Where the stream goes, chunk by chunk. */
export type SaveSink = (chunks: Uint8Array[]) => Promise<void>;

/** Read `count` u32 entries from frames `mfns` of `domid` (1024 per frame). */
function readFrameWords(ts: Toolstack, domid: number, mfns: readonly number[], count: number): number[] {
  const map = ForeignMap.map(ts.xc, domid, mfns);
  try {
    const out: number[] = [];
    for (let i = 0; i < mfns.length && out.length < count; i++) {
      const page = map.view(i, 0, 4096);
      for (let j = 0; j < 1024 && out.length < count; j++) out.push(page.getUint32(j * 4, true));
    }
    return out;
  } finally {
    map.unmap();
  }
}

async function suspend(ts: Toolstack, domid: number, timeoutMs: number): Promise<void> {
  const xs = ts.store;
  if (xs === null) throw new XlError('save: the guest is asked to suspend through xenstore, and this host runs no xenstored');
  const waiting = ts.waitShutdown(domid);
  xs.write(`/local/domain/${domid}/control/shutdown`, 'suspend');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
  const reason = await Promise.race([waiting, timeout]);
  clearTimeout(timer);
  if (reason === 'timeout') {
    xs.write(`/local/domain/${domid}/control/shutdown`, '');
    throw new XlError(`libxl: error: Domain ${domid}:guest didn't suspend within ${Math.round(timeoutMs / 1000)} s (does it support PV suspend?)\nFailed to save domain, resuming domain`);
  }
  if (reason === null) throw new XlError(`libxl: error: Domain ${domid}:the domain went away while suspending`);
  if (reason !== SHUTDOWN_suspend) {
    throw new XlError(`libxl: error: Domain ${domid}:guest shut down (reason ${reason}) instead of suspending`);
  }
}

/**
 * Resume a domain that suspended (xc_domain_resume's fast path): vCPU 0's suspend hypercall
 * returns 1, then XEN_DOMCTL_resumedomain and unpause.
 */
export function resumeSuspended(ts: Toolstack, domid: number, unpause: boolean): void {
  const ctx = ts.xc.getVcpuContext(domid, 0);
  if (typeof ctx !== 'number') {
    new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength).setUint32(VCPU_GUEST_CONTEXT_USER_REGS_EAX, 1, true);
    ts.xc.setVcpuContext(domid, 0, ctx);
  }
  const rc = resumeDomain(ts.xc, domid);
  if (rc < 0) throw new XlError(`libxl: error: Domain ${domid}:xc_domain_resume failed (rc=${rc})`);
  const g = ts.guest(domid);
  if (g !== undefined) g.preserved = false;
  if (unpause) ts.xc.unpauseDomain(domid);
}

/** Save domain `domid` into `sink`; returns the bytes written. */
export async function saveDomain(ts: Toolstack, domid: number, sink: SaveSink, opts: SaveOptions = {}): Promise<number> {
  ts.needGuest(domid);
  const progress = opts.onProgress ?? (() => undefined);
  const yieldFn = opts.yieldFn ?? (() => new Promise<void>((r) => setImmediate(r)));
  progress({ phase: 'suspend', done: 0, total: 1 });
  await suspend(ts, domid, opts.suspendTimeoutMs ?? 60_000);
  let written = 0;
  try {
    written = await writeImage(ts, domid, sink, progress, yieldFn, opts);
  } catch (e) {
    resumeSuspended(ts, domid, true);
    if (e instanceof XlError) throw new XlError(`${e.message}\nFailed to save domain, resuming domain`);
    throw e;
  }
  if (opts.checkpoint || opts.leavePaused) {
    if (opts.leavePaused) ts.xc.pauseDomain(domid);
    resumeSuspended(ts, domid, true);
  } else {
    ts.destroy(domid, SHUTDOWN_suspend, 'saved');
  }
  progress({ phase: 'done', done: written, total: written });
  return written;
}

/**
 * The config as the domain runs now (libxl_retrieve_domain_configuration): its current
 * name, and the memory target and maximum that mem-set/mem-max left in xenstore, so a
 * restored domain carries on with the memory it had rather than ballooning back to the
 * file's `memory=`. xl.cfg counts MiB: a target that is not a whole MiB rounds down.
 */
function liveConfig(ts: Toolstack, g: Guest): PvGuestConfig {
  const target = readKiB(ts, g.domid, 'target');
  const max = readKiB(ts, g.domid, 'static-max');
  const memoryMiB = target !== null ? Math.max(1, Math.floor(target / 1024)) : g.config.memoryMiB;
  const maxmemMiB = Math.max(memoryMiB, max !== null ? Math.ceil(max / 1024) : g.config.maxmemMiB);
  return { ...g.config, name: g.name, memoryMiB, maxmemMiB };
}

async function writeImage(ts: Toolstack, domid: number, sink: SaveSink, progress: (p: SaveProgress) => void,
  yieldFn: () => Promise<void>, opts: SaveOptions): Promise<number> {
  const g = ts.needGuest(domid);
  const info = domInfo(ts.xc, domid);
  if (info === null) throw new XlError(`libxl: error: Domain ${domid}:Non-existant domain`);
  const w = new StreamWriter();
  const flush = async (): Promise<void> => {
    await sink(w.take());
  };
  const macs = g.devices.flatMap((d) => (d.type === 'vif' ? [d.mac] : []));
  const header = w.xlHeader(opts.config ?? formatXlConfig(liveConfig(ts, g), { uuid: g.uuid, macs }));
  opts.onHeader?.(header);
  const ver = xenVersion(ts.xc);
  w.imageHeaders(ver.major, ver.minor);
  w.record(REC_TYPE_X86_PV_INFO, Uint8Array.of(4, 3, 0, 0, 0, 0, 0, 0));

  // The p2m, through the frame lists the guest published in its shared_info.
  const shinfoMap = ForeignMap.map(ts.xc, domid, [info.sharedInfoFrame]);
  const shinfo = shinfoMap.read(0, 0, 4096);
  shinfoMap.unmap();
  const sv = new DataView(shinfo.buffer);
  const maxPfn = sv.getUint32(SHARED_INFO_ARCH_MAX_PFN, true);
  const fll = sv.getUint32(SHARED_INFO_ARCH_PFN_TO_MFN_FRAME_LIST_LIST, true);
  if (fll === 0 || maxPfn === 0 || maxPfn > info.maxPages + 1024 * 1024) {
    throw new XlError(`libxl: error: Domain ${domid}:the guest published no p2m frame list (shared_info arch.pfn_to_mfn_frame_list_list=${fll}, max_pfn=${maxPfn}): it cannot be saved`);
  }
  const nP2mFrames = Math.ceil(maxPfn / P2M_PER_FRAME);
  const nFl = Math.ceil(nP2mFrames / P2M_PER_FRAME);
  const flMfns = readFrameWords(ts, domid, [fll], nFl);
  const p2mFrameMfns = readFrameWords(ts, domid, flMfns, nP2mFrames);
  const p2m = readFrameWords(ts, domid, p2mFrameMfns, maxPfn);
  const pfnOfMfn = new Map<number, number>();
  p2m.forEach((mfn, pfn) => {
    if (mfn !== INVALID_P2M_ENTRY) pfnOfMfn.set(mfn, pfn);
  });
  const toPfn = (mfn: number): number => pfnOfMfn.get(mfn) ?? -1;
  const p2mFramePfns = p2mFrameMfns.map(toPfn);
  if (p2mFramePfns.some((p) => p < 0)) throw new XlError(`libxl: error: Domain ${domid}:a p2m frame is not in the p2m`);
  const fr = new Uint8Array(8 + p2mFramePfns.length * 8);
  const frv = new DataView(fr.buffer);
  frv.setUint32(0, 0, true);
  frv.setUint32(4, maxPfn - 1, true);
  p2mFramePfns.forEach((p, i) => frv.setUint32(8 + i * 8, p, true));
  w.record(REC_TYPE_X86_PV_P2M_FRAMES, fr);
  await flush();

  // Memory, in batches.
  for (let base = 0; base < maxPfn; base += 1024) {
    const pfns = Array.from({ length: Math.min(1024, maxPfn - base) }, (_, i) => base + i);
    const mfns = pfns.map((p) => p2m[p]!);
    const valid = pfns.filter((p) => p2m[p] !== INVALID_P2M_ENTRY);
    const types = new Map<number, number>();
    if (valid.length > 0) {
      const t = pageFrameTypes(ts.xc, domid, valid.map((p) => p2m[p]!));
      if (typeof t === 'number') throw new XlError(`libxl: error: Domain ${domid}:getpageframeinfo3 failed (rc=${t})`);
      valid.forEach((p, i) => types.set(p, t[i]!));
    }
    const hdr = new Uint8Array(8 + pfns.length * 8);
    const hv = new DataView(hdr.buffer);
    hv.setUint32(0, pfns.length, true);
    const withData = pfns.filter((p) => {
      const t = types.get(p);
      return t !== undefined && (t >>> 0) !== (XEN_DOMCTL_PFINFO_XTAB >>> 0);
    });
    pfns.forEach((p, i) => {
      const t = types.get(p) ?? (XEN_DOMCTL_PFINFO_XTAB >>> 0);
      hv.setUint32(8 + i * 8, p, true);
      hv.setUint32(8 + i * 8 + 4, ((t >>> XEN_DOMCTL_PFINFO_LTAB_SHIFT) & 0xf) << 28, true);
    });
    const data = new Uint8Array(withData.length * 4096);
    if (withData.length > 0) {
      const map = ForeignMap.map(ts.xc, domid, withData.map((p) => mfns[p - base]!));
      try {
        for (let i = 0; i < withData.length; i++) data.set(map.read(i, 0, 4096), i * 4096);
      } finally {
        map.unmap();
      }
      withData.forEach((p, i) => {
        const lt = (types.get(p)! & XEN_DOMCTL_PFINFO_LTABTYPE_MASK) >>> 0; // withData have types
        if (lt >= (XEN_DOMCTL_PFINFO_L1TAB >>> 0) && lt <= (XEN_DOMCTL_PFINFO_L3TAB >>> 0)) {
          const level = lt >>> XEN_DOMCTL_PFINFO_LTAB_SHIFT;
          const err = translatePageTable(data.subarray(i * 4096, (i + 1) * 4096), level, toPfn, true);
          if (err !== null) throw new XlError(`libxl: error: Domain ${domid}:page table at pfn ${p.toString(16)}: ${err}`);
        }
      });
    }
    w.record(REC_TYPE_PAGE_DATA, hdr, data);
    await flush();
    progress({ phase: 'memory', done: base + pfns.length, total: maxPfn });
    await yieldFn();
  }

  // vCPUs (the online ones; minios parks its secondaries with VCPUOP_down before suspending).
  const last = info.maxVcpuId;
  for (let v = 0; v <= last; v++) {
    const vi = vcpuInfo(ts.xc, domid, v);
    if (typeof vi === 'number' || !vi.online) continue;
    const ctx = ts.xc.getVcpuContext(domid, v);
    if (typeof ctx === 'number') throw new XlError(`libxl: error: Domain ${domid}:getvcpucontext ${v} failed (rc=${ctx})`);
    const err = translateVcpuContext(ctx, toPfn, v === 0);
    if (err !== null) throw new XlError(`libxl: error: Domain ${domid}:vCPU ${v}: ${err}`);
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, v, true);
    w.record(REC_TYPE_X86_PV_VCPU_BASIC, head, ctx);
    progress({ phase: 'vcpus', done: v + 1, total: last + 1 });
  }
  w.record(REC_TYPE_SHARED_INFO, shinfo);
  w.record(REC_TYPE_END);
  await flush();
  return w.bytes;
}

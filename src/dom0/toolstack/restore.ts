/**
 * xl restore of a PV domain saved by save.ts (libxc's restorer, x86 PV):
 *
 *  1. read the xl header and the domain's config (or the one given), create the domain with
 *     its limits, and populate exactly the PFNs the image has pages for;
 *  2. write the pages, page tables localised (PFN -> new MFN); write the new p2m into the
 *     guest's own p2m frames (X86_PV_P2M_FRAMES); pin the tables the image marks pinned;
 *  3. fix start_info as libxc does: the store and console frames (the guest left PFNs there)
 *     become MFNs, with fresh event channels to dom0, and shared_info's new address;
 *  4. shared_info: the saved vcpu_info and arch fields, every port masked and nothing
 *     pending (arch.pfn_to_mfn_frame_list_list cleared: the guest publishes its new lists);
 *  5. vCPU contexts (CR3, GDT frames and vCPU 0's EDX localised); vCPU 0 resumes from its
 *     suspend hypercall with EAX 0 — "a new domain" — and rebinds everything;
 *  6. xenstore home and introduction, console, devices (the frontends reconnect from
 *     scratch through xenbus), scheduling parameters; unpause unless asked not to.
 *
 * Invariants: the image is untrusted input: every PFN, type, record size and frame
 * reference is checked (a bad one is an XlError naming it), and any failure destroys the
 * half-built domain, returning its memory.
 */
import { readFileSync } from 'node:fs';
import {
  SHARED_INFO_ARCH, SHARED_INFO_ARCH_PFN_TO_MFN_FRAME_LIST_LIST, SHARED_INFO_EVTCHN_MASK, SHARED_INFO_EVTCHN_PENDING,
  SHARED_INFO_VCPU_INFO, SIZEOF_VCPU_INFO, VCPU_INFO_EVTCHN_PENDING_SEL, VCPU_INFO_EVTCHN_UPCALL_PENDING,
  START_INFO_CONSOLE_DOM_U_EVTCHN, START_INFO_CONSOLE_DOM_U_MFN, START_INFO_SHARED_INFO, START_INFO_STORE_EVTCHN,
  START_INFO_STORE_MFN,
} from '../../abi/xen.ts';
import { SIZEOF_VCPU_GUEST_CONTEXT, VCPU_GUEST_CONTEXT_USER_REGS_EDX, XEN_LEGACY_MAX_VCPUS } from '../../abi/arch_x86_32.ts';
import { ForeignMap } from '../libxc/foreign.ts';
import type { Toolstack } from './toolstack.ts';
import { Guest, type DomainFrames } from './guest.ts';
import { XlError } from './xl_error.ts';
import { parseConfigText } from './xl_load.ts';
import { createLimits, type PvGuestConfig } from './xl_config.ts';
import { domInfo, randomUuid, uuidBytes, uuidText } from './xc_domain.ts';
import { translatePageTable, translateVcpuContext } from './pv_canon.ts';
import { MAXMEM_SLACK_KB } from './pv_builder.ts';
import { attachConfiguredDevices } from './device_ops.ts';
import { INVALID_P2M_ENTRY } from './save.ts';
import {
  REC_TYPE_END, REC_TYPE_OPTIONAL, REC_TYPE_PAGE_DATA, REC_TYPE_SHARED_INFO, REC_TYPE_X86_PV_INFO,
  REC_TYPE_X86_PV_P2M_FRAMES, REC_TYPE_X86_PV_VCPU_BASIC, SaveFormatError, StreamReader,
} from './save_format.ts';

export interface RestoreProgress {
  readonly phase: 'read' | 'memory' | 'vcpus' | 'devices' | 'done';
  readonly done: number;
  readonly total: number;
}

export interface RestoreOptions {
  /** An xl.cfg to use instead of the one in the file. */
  readonly config?: { readonly text: string; readonly source: string };
  readonly cwd?: string;
  /** Leave the restored domain paused (xl restore -p). */
  readonly paused?: boolean;
  readonly onProgress?: (p: RestoreProgress) => void;
  readonly yieldFn?: () => Promise<void>;
}

/** PFINFO types as they travel in PAGE_DATA (bits 60-63 of each pfn entry). */
const T_L1 = 0x1, T_L3 = 0x3, T_L4 = 0x4, T_PIN = 0x8, T_BROKEN = 0xd, T_XALLOC = 0xe, T_XTAB = 0xf;
const MAX_VCPUS = XEN_LEGACY_MAX_VCPUS;

interface PageBatch {
  readonly pfns: number[];
  readonly types: number[];
  /** Page data of the entries that have data, in order. */
  readonly data: Uint8Array;
  readonly offset: number;
}

interface Image {
  readonly config: string;
  readonly maxPfn: number;
  readonly p2mFramePfns: number[];
  readonly batches: PageBatch[];
  readonly vcpus: Map<number, Uint8Array>;
  readonly shinfo: Uint8Array;
}

function bad(offset: number, what: string): never {
  throw new XlError(`restore: corrupt save file at offset ${offset}: ${what}`);
}

/** Read and check every record of an image (no domain exists yet). */
export function readImage(bytes: Uint8Array): Image {
  try {
    const r = new StreamReader(bytes);
    const { config } = r.xlHeader();
    r.imageHeaders();
    let maxPfn = -1;
    let p2mFramePfns: number[] = [];
    let shinfo: Uint8Array | null = null;
    let sawInfo = false;
    const batches: PageBatch[] = [];
    const vcpus = new Map<number, Uint8Array>();
    for (;;) {
      const rec = r.record();
      const v = new DataView(rec.body.buffer, rec.body.byteOffset, rec.body.byteLength);
      if (rec.type === REC_TYPE_END) break;
      switch (rec.type) {
        case REC_TYPE_X86_PV_INFO:
          if (rec.body.length !== 8 || rec.body[0] !== 4 || rec.body[1] !== 3) bad(rec.offset, 'X86_PV_INFO is not a 32-bit PAE guest');
          sawInfo = true;
          break;
        case REC_TYPE_X86_PV_P2M_FRAMES: {
          if (rec.body.length < 16 || rec.body.length % 8 !== 0) bad(rec.offset, 'X86_PV_P2M_FRAMES has a bad length');
          const start = v.getUint32(0, true), end = v.getUint32(4, true);
          if (start !== 0 || end >= 1 << 24) bad(rec.offset, `p2m range ${start}-${end}`);
          const n = (rec.body.length - 8) / 8;
          if (n !== Math.ceil((end + 1) / 1024)) bad(rec.offset, `${n} p2m frames for ${end + 1} pfns`);
          maxPfn = end + 1;
          p2mFramePfns = Array.from({ length: n }, (_, i) => v.getUint32(8 + i * 8, true));
          break;
        }
        case REC_TYPE_PAGE_DATA: {
          if (rec.body.length < 8) bad(rec.offset, 'PAGE_DATA too short');
          const count = v.getUint32(0, true);
          if (count === 0 || count > 1024 || 8 + count * 8 > rec.body.length) bad(rec.offset, `PAGE_DATA count ${count}`);
          const pfns: number[] = [], types: number[] = [];
          let withData = 0;
          for (let i = 0; i < count; i++) {
            const lo = v.getUint32(8 + i * 8, true), hi = v.getUint32(12 + i * 8, true);
            const type = hi >>> 28;
            if ((hi & 0x0fffffff) !== 0 || lo >= maxPfn || maxPfn < 0) bad(rec.offset, `pfn ${lo} (of ${maxPfn}) / high bits ${hi.toString(16)}`);
            if (type > T_L4 && type !== T_XTAB && type !== T_XALLOC && type !== T_BROKEN && (type < (T_L1 | T_PIN) || type > (T_L4 | T_PIN))) {
              bad(rec.offset, `page type ${type} for pfn ${lo}`);
            }
            if ((type & 7) === T_L4 && type !== T_XTAB && type !== T_XALLOC) bad(rec.offset, `an L4 table in a 32-bit PAE guest (pfn ${lo})`);
            pfns.push(lo);
            types.push(type);
            if (type !== T_XTAB && type !== T_XALLOC && type !== T_BROKEN) withData++;
          }
          const dataStart = 8 + count * 8;
          if (rec.body.length !== dataStart + withData * 4096) bad(rec.offset, `PAGE_DATA holds ${rec.body.length - dataStart} bytes for ${withData} pages`);
          batches.push({ pfns, types, data: rec.body.subarray(dataStart), offset: rec.offset });
          break;
        }
        case REC_TYPE_X86_PV_VCPU_BASIC: {
          if (rec.body.length !== 8 + SIZEOF_VCPU_GUEST_CONTEXT) bad(rec.offset, 'X86_PV_VCPU_BASIC has a bad length');
          const id = v.getUint32(0, true);
          if (id >= MAX_VCPUS || vcpus.has(id)) bad(rec.offset, `vCPU ${id}`);
          vcpus.set(id, rec.body.slice(8));
          break;
        }
        case REC_TYPE_SHARED_INFO:
          if (rec.body.length !== 4096) bad(rec.offset, 'SHARED_INFO is not one page');
          shinfo = rec.body;
          break;
        default:
          if ((rec.type & REC_TYPE_OPTIONAL) === 0) bad(rec.offset, `unsupported mandatory record type ${rec.type}`);
      }
    }
    if (!sawInfo || maxPfn < 0 || shinfo === null || !vcpus.has(0)) bad(0, 'X86_PV_INFO, X86_PV_P2M_FRAMES, SHARED_INFO or vCPU 0 missing');
    if (p2mFramePfns.some((p) => p >= maxPfn)) bad(0, 'a p2m frame outside the guest');
    return { config, maxPfn, p2mFramePfns, batches, vcpus, shinfo };
  } catch (e) {
    if (e instanceof SaveFormatError) throw new XlError(e.message);
    throw e;
  }
}

/** Restore a domain from a save image; returns its (running or paused) Guest. */
export async function restoreDomain(ts: Toolstack, bytes: Uint8Array, opts: RestoreOptions = {}): Promise<Guest> {
  const progress = opts.onProgress ?? (() => undefined);
  const yieldFn = opts.yieldFn ?? (() => new Promise<void>((r) => setImmediate(r)));
  progress({ phase: 'read', done: 0, total: bytes.length });
  const img = readImage(bytes);
  const text = opts.config?.text ?? img.config;
  if (text === '') throw new XlError('Config file not specified and none in save file');
  const { cfg } = parseConfigText(text, opts.config?.source ?? '<saved>', [], opts.cwd ?? process.cwd());
  if (ts.guest(cfg.name) !== undefined) throw new XlError(`libxl: error: Domain with name "${cfg.name}" already exists.`);
  const pages = img.batches.reduce((n, b) => n + b.types.filter((t) => t !== T_XTAB && t !== T_BROKEN).length, 0);
  if (pages > cfg.maxmemMiB * 256 + MAXMEM_SLACK_KB / 4) {
    throw new XlError(`restore: the image holds ${pages} pages, more than maxmem=${cfg.maxmemMiB} allows`);
  }
  const uuid = cfg.uuid !== null ? uuidBytes(cfg.uuid) : randomUuid(ts.random);
  const xc = ts.xc;
  const domid = xc.createDomain({ maxVcpus: cfg.maxvcpus, handle: uuid, ...createLimits(cfg) });
  if (domid < 0) throw new XlError(`libxl: error: cannot create domain (rc=${domid})`);
  let g: Guest | null = null;
  try {
    const built = await rebuild(ts, domid, cfg, img, progress, yieldFn);
    ts.applySchedParams(domid, cfg);
    ts.writeXenstoreFor(domid, uuidText(uuid), cfg, built.storeMfn, built.storePort, built.consoleMfn, built.consolePort);
    const con = ts.consoles.attach(domid, built.consoleMfn, built.consolePort, null, cfg.name);
    let kernel: Uint8Array | null = null;
    try {
      kernel = new Uint8Array(readFileSync(cfg.kernel));
    } catch {
      ts.log(`restore: ${cfg.kernel} is not readable: the domain will not restart on reboot`);
    }
    g = new Guest(cfg.name, domid, uuidText(uuid), cfg, built, con, { kernel, ramdisk: null }, ts.now());
    ts.adopt(g);
    progress({ phase: 'devices', done: 0, total: cfg.disks.length + cfg.vifs.length });
    if (ts.drivers !== null && ts.store !== null) attachConfiguredDevices(ts, g, ts.drivers);
    else if (cfg.disks.length + cfg.vifs.length > 0) throw new XlError('restore: the domain has devices and this host runs no backends');
  } catch (e) {
    ts.teardown(domid, g, uuidText(uuid));
    throw e;
  }
  ts.emit({ type: 'created', guest: g });
  if (!opts.paused) xc.unpauseDomain(domid);
  progress({ phase: 'done', done: 1, total: 1 });
  return g;
}

async function rebuild(ts: Toolstack, domid: number, cfg: PvGuestConfig, img: Image,
  progress: (p: RestoreProgress) => void, yieldFn: () => Promise<void>): Promise<DomainFrames> {
  const xc = ts.xc;
  const check = (rc: number, what: string): number => {
    if (rc < 0) throw new XlError(`restore: ${what} failed (rc=${rc})`);
    return rc;
  };
  check(xc.setMaxMem(domid, cfg.maxmemMiB * 1024 + MAXMEM_SLACK_KB), 'max_mem');
  check(xc.setMemmapLimit(domid, cfg.maxmemMiB * 1024), 'memory map');
  // Populate the PFNs that have pages (or XALLOC), in runs.
  const p2m = new Array<number>(img.maxPfn).fill(INVALID_P2M_ENTRY);
  const typeOf = new Map<number, number>();
  for (const b of img.batches) b.pfns.forEach((p, i) => typeOf.set(p, b.types[i]!));
  const want = [...typeOf.entries()].filter(([, t]) => t !== T_XTAB && t !== T_BROKEN).map(([p]) => p).sort((a, b) => a - b);
  for (let i = 0; i < want.length; i += 256) {
    const batch = want.slice(i, i + 256);
    const r = xc.populatePhysmap(domid, batch, 0);
    if (typeof r === 'number') throw new XlError(`restore: populating ${batch.length} pages failed (rc=${r})`);
    batch.forEach((p, j) => (p2m[p] = r[j]!));
  }
  const toMfn = (pfn: number): number => (pfn >= 0 && pfn < p2m.length && p2m[pfn] !== INVALID_P2M_ENTRY ? p2m[pfn]! : -1);

  // Page contents, tables localised.
  let done = 0;
  for (const b of img.batches) {
    const dataPfns = b.pfns.filter((_, i) => b.types[i] !== T_XTAB && b.types[i] !== T_XALLOC && b.types[i] !== T_BROKEN);
    const dataTypes = b.types.filter((t) => t !== T_XTAB && t !== T_XALLOC && t !== T_BROKEN);
    if (dataPfns.length > 0) {
      const map = ForeignMap.map(xc, domid, dataPfns.map((p) => p2m[p]!));
      try {
        for (let i = 0; i < dataPfns.length; i++) {
          const page = b.data.slice(i * 4096, (i + 1) * 4096);
          const level = dataTypes[i]! & 7;
          if (level >= T_L1 && level <= T_L3) {
            const err = translatePageTable(page, level, toMfn, false);
            if (err !== null) bad(b.offset, `page table at pfn ${dataPfns[i]!.toString(16)}: ${err}`);
          }
          map.write(i, 0, page);
        }
      } finally {
        map.unmap();
      }
    }
    done += b.pfns.length;
    progress({ phase: 'memory', done, total: img.maxPfn });
    await yieldFn();
  }
  // The guest's own p2m, in the frames it keeps it in.
  const frames = img.p2mFramePfns.map((p) => toMfn(p));
  if (frames.some((m) => m < 0)) bad(0, 'a p2m frame has no page');
  const pm = ForeignMap.map(xc, domid, frames);
  try {
    for (let f = 0; f < frames.length; f++) {
      const b = new Uint8Array(4096);
      const v = new DataView(b.buffer);
      for (let j = 0; j < 1024; j++) {
        const pfn = f * 1024 + j;
        v.setUint32(j * 4, pfn < p2m.length ? p2m[pfn]! : INVALID_P2M_ENTRY, true);
      }
      pm.write(f, 0, b);
    }
  } finally {
    pm.unmap();
  }
  // Pinned tables.
  for (const [pfn, t] of typeOf) {
    if ((t & T_PIN) === 0 || t === T_XTAB || t === T_XALLOC || t === T_BROKEN) continue;
    check(xc.pinTable(domid, t & 7, p2m[pfn]!), `pinning the L${t & 7} table at pfn ${pfn.toString(16)}`);
  }
  // start_info, named by vCPU 0's EDX.
  const ctx0 = img.vcpus.get(0)!; // readImage checked it exists
  const siPfn = new DataView(ctx0.buffer, ctx0.byteOffset).getUint32(VCPU_GUEST_CONTEXT_USER_REGS_EDX, true);
  if (toMfn(siPfn) < 0) bad(0, `start_info pfn ${siPfn} has no page`);
  const info = domInfo(xc, domid);
  if (info === null) throw new XlError('restore: the new domain vanished');
  const si = ForeignMap.map(xc, domid, [toMfn(siPfn)]);
  let storeMfn: number, consoleMfn: number, storePort: number, consolePort: number;
  try {
    const sv = si.view(0, 0, 4096);
    storeMfn = toMfn(sv.getUint32(START_INFO_STORE_MFN, true));
    consoleMfn = toMfn(sv.getUint32(START_INFO_CONSOLE_DOM_U_MFN, true));
    if (storeMfn < 0 || consoleMfn < 0) bad(0, 'start_info names store/console pages the image does not have (did the guest leave PFNs there?)');
    storePort = check(xc.allocUnbound(domid, xc.domid), 'xenstore event channel');
    consolePort = check(xc.allocUnbound(domid, xc.domid), 'console event channel');
    const put = (off: number, val: number): void => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, val >>> 0, true);
      si.write(0, off, b);
    };
    put(START_INFO_STORE_MFN, storeMfn);
    put(START_INFO_STORE_EVTCHN, storePort);
    put(START_INFO_CONSOLE_DOM_U_MFN, consoleMfn);
    put(START_INFO_CONSOLE_DOM_U_EVTCHN, consolePort);
    put(START_INFO_SHARED_INFO, info.sharedInfoFrame * 4096);
  } finally {
    si.unmap();
  }
  // shared_info: the saved vcpu_info and arch, nothing pending, every port masked.
  const sh = ForeignMap.map(xc, domid, [info.sharedInfoFrame]);
  try {
    const cur = sh.read(0, 0, 4096);
    cur.set(img.shinfo.subarray(SHARED_INFO_VCPU_INFO, SHARED_INFO_VCPU_INFO + MAX_VCPUS * SIZEOF_VCPU_INFO), SHARED_INFO_VCPU_INFO);
    cur.set(img.shinfo.subarray(SHARED_INFO_ARCH, 4096), SHARED_INFO_ARCH);
    const cv = new DataView(cur.buffer);
    for (let i = 0; i < MAX_VCPUS; i++) {
      cv.setUint8(SHARED_INFO_VCPU_INFO + i * SIZEOF_VCPU_INFO + VCPU_INFO_EVTCHN_UPCALL_PENDING, 0);
      cv.setUint32(SHARED_INFO_VCPU_INFO + i * SIZEOF_VCPU_INFO + VCPU_INFO_EVTCHN_PENDING_SEL, 0, true);
    }
    cur.fill(0, SHARED_INFO_EVTCHN_PENDING, SHARED_INFO_EVTCHN_MASK);
    cur.fill(0xff, SHARED_INFO_EVTCHN_MASK, SHARED_INFO_EVTCHN_MASK + (SHARED_INFO_EVTCHN_MASK - SHARED_INFO_EVTCHN_PENDING));
    cv.setUint32(SHARED_INFO_ARCH_PFN_TO_MFN_FRAME_LIST_LIST, 0, true);
    sh.write(0, 0, cur);
  } finally {
    sh.unmap();
  }
  // vCPUs.
  let n = 0;
  for (const [id, ctx] of [...img.vcpus.entries()].sort((a, b) => a[0] - b[0])) {
    if (id >= cfg.maxvcpus) throw new XlError(`restore: the image has vCPU ${id}, the config maxvcpus=${cfg.maxvcpus}`);
    const c = ctx.slice();
    const err = translateVcpuContext(c, toMfn, id === 0);
    if (err !== null) bad(0, `vCPU ${id}: ${err}`);
    check(xc.setVcpuContext(domid, id, c), `setvcpucontext ${id}`);
    progress({ phase: 'vcpus', done: ++n, total: img.vcpus.size });
  }
  return { domid, p2m, storeMfn, storePort, consoleMfn, consolePort };
}

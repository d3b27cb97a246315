/**
 * The PV domain builder (libxc's xc_dom_* for "xen-3.0-x86_32p"): load a 32-bit PAE PV
 * kernel into a new domain and lay out its boot address space as Xen's builder does
 * (hypercalls-x86_32.md §9, src/abi/pv_boot.ts):
 *
 *   VIRT_BASE .. : kernel | [ramdisk] | p2m list | start_info (ESI) | xenstore page | console page |
 *                  page tables (L3, L2s, L1s; mapped read-only) | boot stack (ESP = end)
 *   mapped 1:1 onto PFNs 0.. (PFN = (VA - VIRT_BASE) >> 12), ending on a 4 MiB boundary
 *   with >= 512 KiB mapped and unused after the stack (grown and recounted until it fits);
 *   an empty L2 is hooked into L3 slot 3 when the region does not reach it (Xen's slots
 *   live there).
 *
 * Steps, all through hypercalls: createdomain, max_mem, populate_physmap (PFN -> MFN),
 * foreign-map the boot region, write the kernel, p2m, start_info and tables, event
 * channels for console and xenstore (alloc_unbound to dom0), hypercall_init, unmap, pin
 * the L3, setvcpucontext (vCPU 0 entry state). The caller unpauses.
 */
import {
  SIZEOF_START_INFO, START_INFO_CMD_LINE, START_INFO_CONSOLE_DOM_U_EVTCHN, START_INFO_CONSOLE_DOM_U_MFN,
  START_INFO_FLAGS, START_INFO_MFN_LIST, START_INFO_NR_PAGES, START_INFO_NR_PT_FRAMES, START_INFO_PT_BASE,
  START_INFO_SHARED_INFO, START_INFO_STORE_EVTCHN, START_INFO_STORE_MFN, MAX_GUEST_CMDLINE, START_INFO_MOD_START,
  START_INFO_MOD_LEN,
  XEN_START_INFO_MAGIC_X86_32P, VMASST_TYPE_pae_extended_cr3,
} from '../../abi/xen.ts';
import {
  SIZEOF_VCPU_GUEST_CONTEXT, VCPU_GUEST_CONTEXT_CTRLREG, VCPU_GUEST_CONTEXT_FLAGS, VCPU_GUEST_CONTEXT_KERNEL_SP,
  VCPU_GUEST_CONTEXT_KERNEL_SS, VCPU_GUEST_CONTEXT_USER_REGS_CS, VCPU_GUEST_CONTEXT_USER_REGS_DS,
  VCPU_GUEST_CONTEXT_USER_REGS_EFLAGS, VCPU_GUEST_CONTEXT_USER_REGS_EIP, VCPU_GUEST_CONTEXT_USER_REGS_ES,
  VCPU_GUEST_CONTEXT_USER_REGS_ESI, VCPU_GUEST_CONTEXT_USER_REGS_ESP, VCPU_GUEST_CONTEXT_USER_REGS_FS,
  VCPU_GUEST_CONTEXT_USER_REGS_GS, VCPU_GUEST_CONTEXT_USER_REGS_SS, VCPU_GUEST_CONTEXT_VM_ASSIST, xen_pfn_to_cr3,
} from '../../abi/arch_x86_32.ts';
import {
  PV_BOOT_CS, PV_BOOT_DS, PV_BOOT_EFLAGS, PV_BOOT_L1_PROT, PV_BOOT_L1_PROT_PAGETABLE, PV_BOOT_L2_PROT,
  PV_BOOT_L3_PROT_COMPAT, PV_BOOT_REGION_ALIGN, PV_BOOT_SLACK_PAGES, PV_BOOT_STACK_PAGES, PV_BOOT_VCPU_FLAGS,
} from '../../abi/pv_boot.ts';
import { PT_LOAD } from '../../hw/loader/elf.ts';
import type { Xc } from '../libxc/xc.ts';
import { XcError } from '../libxc/xc.ts';
import { EINVAL } from '../../abi/errno.ts';
import { ForeignMap } from '../libxc/foreign.ts';
import { BuildError, readXenKernel, type XenKernelInfo } from './xen_elf.ts';

/** libxl's LIBXL_MAXMEM_CONSTANT: max_mem is the target plus 1 MiB of slack. */
export const MAXMEM_SLACK_KB = 1024;

export interface PvBuildOptions {
  readonly kernel: Uint8Array;
  readonly memoryMiB: number;
  /** Memory limit (MiB, default memoryMiB): max_mem is this plus MAXMEM_SLACK_KB. */
  readonly maxmemMiB?: number;
  readonly vcpus?: number;
  readonly cmdline?: string;
  /** Domain that serves the console and xenstore (dom0). */
  readonly backendDomid?: number;
  readonly handle?: Uint8Array;
  /** An initial ramdisk (xl ramdisk=), loaded page-aligned after the kernel; start_info mod_start/mod_len give its VA and length. */
  readonly ramdisk?: Uint8Array;
  /** xl.cfg max_event_channels / max_grant_frames / max_maptrack_frames (undefined: libxl's defaults). */
  readonly limits?: { readonly maxEvtchnPort?: number; readonly maxGrantFrames?: number; readonly maxMaptrackFrames?: number };
}

export interface PvDomainLayout {
  readonly virtBase: number;
  /** VA of the ramdisk (0 when there is none). */
  readonly ramdiskVa: number;
  readonly nrPages: number;
  readonly p2mVa: number;
  readonly startInfoVa: number;
  readonly storeVa: number;
  readonly consoleVa: number;
  readonly ptVa: number;
  readonly nrPtFrames: number;
  readonly stackVa: number;
  /** End of the mapped boot region (exclusive). */
  readonly bootEnd: number;
}

export interface BuiltDomain {
  readonly domid: number;
  readonly kernel: XenKernelInfo;
  readonly layout: PvDomainLayout;
  readonly p2m: readonly number[];
  readonly consoleMfn: number;
  readonly consolePort: number;
  readonly storeMfn: number;
  readonly storePort: number;
}

const MB2 = 0x200000;
const GB = 0x40000000;

/**
 * The GiB slots (L3 entries) that get an L2 when mapping [start, end): libxc maps every
 * GiB the region touches and, when the region ends below 3 GiB, every GiB up to slot 3
 * ("PAE: extra l2 page table for l3#3"), so Xen's slot-3 L2 always exists.
 */
export function paeL2Slots(start: number, end: number): number[] {
  const g0 = Math.floor(start / GB);
  const g1 = end - 1 < 0xc0000000 ? 3 : Math.floor((end - 1) / GB);
  const out: number[] = [];
  for (let g = g0; g <= g1; g++) out.push(g);
  return out;
}

/** Page-table frames needed to map [start, end) with PAE: 1 L3, the L2s, one L1 per 2 MiB. */
export function countPaeTables(start: number, end: number): number {
  const l1 = Math.floor((end - 1) / MB2) - Math.floor(start / MB2) + 1;
  return 1 + paeL2Slots(start, end).length + l1;
}

/** The boot layout after a kernel image ending at `kend` (page-rounded), for nrPages of RAM. */
export function planLayout(virtBase: number, kend: number, nrPages: number, ramdiskBytes = 0): PvDomainLayout {
  const page = (va: number): number => Math.ceil(va / 4096) * 4096;
  let va = page(kend);
  const ramdiskVa = ramdiskBytes > 0 ? va : 0;
  va += page(ramdiskBytes);
  const p2mVa = va;
  va += page(nrPages * 4);
  const startInfoVa = va;
  va += 4096;
  const storeVa = va;
  va += 4096;
  const consoleVa = va;
  va += 4096;
  const ptVa = va;
  let tables = 0;
  let bootEnd = 0;
  for (let guard = 0; guard < 64; guard++) {
    const stackEnd = ptVa + tables * 4096 + PV_BOOT_STACK_PAGES * 4096;
    // libxc: round_up(end, 4 MiB - 1) + 1, i.e. the next 4 MiB boundary strictly above.
    bootEnd = (Math.floor((stackEnd + PV_BOOT_SLACK_PAGES * 4096) / PV_BOOT_REGION_ALIGN) + 1) * PV_BOOT_REGION_ALIGN;
    const need = countPaeTables(virtBase, bootEnd);
    if (need === tables) break;
    tables = need;
  }
  const stackVa = ptVa + tables * 4096;
  if ((bootEnd - virtBase) / 4096 > nrPages) {
    throw new BuildError(`the boot region (${(bootEnd - virtBase) >>> 20} MiB) does not fit in ${nrPages >>> 8} MiB of memory`);
  }
  return { virtBase, ramdiskVa, nrPages, p2mVa, startInfoVa, storeVa, consoleVa, ptVa, nrPtFrames: tables, stackVa, bootEnd };
}

function check(rc: number, what: string): number {
  if (rc < 0) throw new XcError(what, rc);
  return rc;
}

/** Build a PV domain; on failure the half-built domain is destroyed and the error rethrown. */
export function buildPvDomain(xc: Xc, opts: PvBuildOptions): BuiltDomain {
  const kernel = readXenKernel(opts.kernel);
  const nrPages = Math.floor((opts.memoryMiB * 1024 * 1024) / 4096);
  const layout = planLayout(kernel.virtBase, kernel.virtKend, nrPages, opts.ramdisk?.length ?? 0);
  const backend = opts.backendDomid ?? 0;
  const maxVcpus = opts.vcpus ?? 1;
  const created = xc.createDomain({ maxVcpus, handle: opts.handle, ...opts.limits });
  // The hypervisor says only EINVAL; the likely cause is worth naming.
  const domid = check(created, maxVcpus > 1 && created === -EINVAL ? `createdomain (max_vcpus ${maxVcpus})` : 'createdomain');
  try {
    return construct(xc, domid, kernel, layout, opts, backend);
  } catch (e) {
    xc.destroyDomain(domid);
    throw e;
  }
}

function construct(xc: Xc, domid: number, kernel: XenKernelInfo, layout: PvDomainLayout, opts: PvBuildOptions,
  backend: number): BuiltDomain {
  const { virtBase, nrPages } = layout;
  check(xc.setMaxMem(domid, (opts.maxmemMiB ?? opts.memoryMiB) * 1024 + MAXMEM_SLACK_KB), 'max_mem');
  // libxl__build_pre: the PV memory map is RAM up to maxmem.
  check(xc.setMemmapLimit(domid, (opts.maxmemMiB ?? opts.memoryMiB) * 1024), 'memory map');
  // RAM: PFNs 0..nrPages-1, in 2 MiB extents where aligned (fewer, bigger allocations).
  const p2m: number[] = [];
  for (let pfn = 0; pfn < nrPages;) {
    if (pfn % 512 === 0 && nrPages - pfn >= 512) {
      const r = xc.populatePhysmap(domid, [pfn], 9);
      if (typeof r !== 'number') {
        for (let i = 0; i < 512; i++) p2m.push(r[0]! + i);
        pfn += 512;
        continue;
      }
    }
    const batch: number[] = [];
    for (let i = 0; i < 256 && pfn + i < nrPages && (batch.length === 0 || (pfn + i) % 512 !== 0); i++) batch.push(pfn + i);
    const r = xc.populatePhysmap(domid, batch, 0);
    if (typeof r === 'number') throw new XcError(`populating PFNs ${pfn}..${pfn + batch.length - 1}`, r);
    p2m.push(...r);
    pfn += batch.length;
  }
  const pfnOf = (va: number): number => Math.floor((va - virtBase) / 4096);
  const regionPages = pfnOf(layout.bootEnd);
  const map = ForeignMap.map(xc, domid, p2m.slice(0, regionPages));
  try {
    // Kernel image (file bytes, then zeroed bss: fresh frames are already zero).
    const off = kernel.virtBase - kernel.paddrOffset;
    for (const s of kernel.elf.segments) {
      if (s.type !== PT_LOAD || s.memSize === 0) continue;
      const va = s.paddr + off;
      const data = kernel.elf.segmentData(s);
      map.write(pfnOf(va), (va - virtBase) % 4096, data);
    }
    if (opts.ramdisk !== undefined && opts.ramdisk.length > 0) map.write(pfnOf(layout.ramdiskVa), 0, opts.ramdisk);
    // p2m list.
    const p2mBytes = new Uint8Array(nrPages * 4);
    const pv = new DataView(p2mBytes.buffer);
    for (let i = 0; i < nrPages; i++) pv.setUint32(i * 4, p2m[i]!, true);
    map.write(pfnOf(layout.p2mVa), 0, p2mBytes);
    // Page tables: L3 first, then the L2s, then the L1s.
    writePageTables(map, layout, p2m);
    // Event channels for xenstore and the console (libxl allocates store first).
    const storePort = check(xc.allocUnbound(domid, backend), 'xenstore event channel');
    const consolePort = check(xc.allocUnbound(domid, backend), 'console event channel');
    const info = xc.getDomainInfo(domid);
    if (info === null || info.domid !== domid) throw new XcError('getdomaininfo', -3);
    const si = new Uint8Array(SIZEOF_START_INFO);
    const sv = new DataView(si.buffer);
    for (let i = 0; i < XEN_START_INFO_MAGIC_X86_32P.length; i++) si[i] = XEN_START_INFO_MAGIC_X86_32P.charCodeAt(i);
    const storeMfn = p2m[pfnOf(layout.storeVa)]!, consoleMfn = p2m[pfnOf(layout.consoleVa)]!;
    sv.setUint32(START_INFO_NR_PAGES, nrPages, true);
    sv.setUint32(START_INFO_SHARED_INFO, info.sharedInfoFrame * 4096, true);
    sv.setUint32(START_INFO_FLAGS, 0, true);
    sv.setUint32(START_INFO_STORE_MFN, storeMfn, true);
    sv.setUint32(START_INFO_STORE_EVTCHN, storePort, true);
    sv.setUint32(START_INFO_CONSOLE_DOM_U_MFN, consoleMfn, true);
    sv.setUint32(START_INFO_CONSOLE_DOM_U_EVTCHN, consolePort, true);
    sv.setUint32(START_INFO_PT_BASE, layout.ptVa, true);
    sv.setUint32(START_INFO_NR_PT_FRAMES, layout.nrPtFrames, true);
    sv.setUint32(START_INFO_MFN_LIST, layout.p2mVa, true);
    sv.setUint32(START_INFO_MOD_START, layout.ramdiskVa, true);
    sv.setUint32(START_INFO_MOD_LEN, opts.ramdisk?.length ?? 0, true);
    const cmd = opts.cmdline ?? '';
    for (let i = 0; i < cmd.length && i < MAX_GUEST_CMDLINE - 1; i++) si[START_INFO_CMD_LINE + i] = cmd.charCodeAt(i) & 0xff;
    map.write(pfnOf(layout.startInfoVa), 0, si);
    if (kernel.hypercallPage >= 0) check(xc.hypercallInit(domid, p2m[pfnOf(kernel.hypercallPage)]!), 'hypercall_init');
    map.unmap();
    const l3mfn = p2m[pfnOf(layout.ptVa)]!;
    check(xc.pinTable(domid, 3, l3mfn), 'pinning the boot page tables');
    // vCPU 0 at the kernel's entry.
    const ctx = new Uint8Array(SIZEOF_VCPU_GUEST_CONTEXT);
    const cv = new DataView(ctx.buffer);
    const stackTop = layout.stackVa + 4096;
    cv.setUint32(VCPU_GUEST_CONTEXT_FLAGS, PV_BOOT_VCPU_FLAGS, true);
    cv.setUint32(VCPU_GUEST_CONTEXT_USER_REGS_EIP, kernel.entry, true);
    cv.setUint32(VCPU_GUEST_CONTEXT_USER_REGS_ESP, stackTop, true);
    cv.setUint32(VCPU_GUEST_CONTEXT_USER_REGS_ESI, layout.startInfoVa, true);
    cv.setUint32(VCPU_GUEST_CONTEXT_USER_REGS_EFLAGS, PV_BOOT_EFLAGS, true);
    cv.setUint16(VCPU_GUEST_CONTEXT_USER_REGS_CS, PV_BOOT_CS, true);
    for (const o of [VCPU_GUEST_CONTEXT_USER_REGS_DS, VCPU_GUEST_CONTEXT_USER_REGS_ES, VCPU_GUEST_CONTEXT_USER_REGS_FS,
      VCPU_GUEST_CONTEXT_USER_REGS_GS, VCPU_GUEST_CONTEXT_USER_REGS_SS]) cv.setUint16(o, PV_BOOT_DS, true);
    cv.setUint32(VCPU_GUEST_CONTEXT_KERNEL_SS, PV_BOOT_DS, true);
    cv.setUint32(VCPU_GUEST_CONTEXT_KERNEL_SP, stackTop, true);
    cv.setUint32(VCPU_GUEST_CONTEXT_CTRLREG + 12, xen_pfn_to_cr3(l3mfn), true);
    if (kernel.pae === 'extended-cr3' || kernel.pae === 'bimodal') {
      cv.setUint32(VCPU_GUEST_CONTEXT_VM_ASSIST, 1 << VMASST_TYPE_pae_extended_cr3, true);
    }
    check(xc.setVcpuContext(domid, 0, ctx), 'setvcpucontext');
    return { domid, kernel, layout, p2m, consoleMfn, consolePort, storeMfn, storePort };
  } finally {
    map.unmap();
  }
}

/** Write the boot page tables: every page of the region mapped, table pages read-only. */
function writePageTables(map: ForeignMap, layout: PvDomainLayout, p2m: readonly number[]): void {
  const { virtBase, bootEnd, ptVa, nrPtFrames } = layout;
  const pfnOf = (va: number): number => Math.floor((va - virtBase) / 4096);
  const l2Gigs = paeL2Slots(virtBase, bootEnd);
  const firstL1 = Math.floor(virtBase / MB2);
  const nL1 = Math.floor((bootEnd - 1) / MB2) - firstL1 + 1;
  if (1 + l2Gigs.length + nL1 !== nrPtFrames) throw new BuildError('page-table count mismatch');
  const tablePfn = (i: number): number => pfnOf(ptVa) + i;
  const entry = (mfn: number, prot: number): [number, number] => [((mfn * 4096) | prot) >>> 0, Math.floor(mfn / 0x100000)];
  const tables = new Uint8Array(nrPtFrames * 4096);
  const tv = new DataView(tables.buffer);
  const put = (t: number, i: number, e: [number, number]): void => {
    tv.setUint32(t * 4096 + i * 8, e[0], true);
    tv.setUint32(t * 4096 + i * 8 + 4, e[1], true);
  };
  // L3 (table 0): one entry per L2.
  l2Gigs.forEach((g, k) => put(0, g, entry(p2m[tablePfn(1 + k)]!, PV_BOOT_L3_PROT_COMPAT)));
  // L2s: entries for the region's L1s.
  for (let k = 0; k < nL1; k++) {
    const va2 = (firstL1 + k) * MB2;
    const g = Math.floor(va2 / GB);
    const l2 = 1 + l2Gigs.indexOf(g);
    put(l2, (va2 >>> 21) & 511, entry(p2m[tablePfn(1 + l2Gigs.length + k)]!, PV_BOOT_L2_PROT));
  }
  // L1s: every page of the region.
  const ptStart = pfnOf(ptVa), ptEnd = ptStart + nrPtFrames;
  for (let va = virtBase; va < bootEnd; va += 4096) {
    const pfn = pfnOf(va);
    const l1 = 1 + l2Gigs.length + (Math.floor(va / MB2) - firstL1);
    const prot = pfn >= ptStart && pfn < ptEnd ? PV_BOOT_L1_PROT_PAGETABLE : PV_BOOT_L1_PROT;
    put(l1, (va >>> 12) & 511, entry(p2m[pfn]!, prot));
  }
  map.write(pfnOf(ptVa), 0, tables);
}

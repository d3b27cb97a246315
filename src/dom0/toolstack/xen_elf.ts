/**
 * Reading a PV kernel's Xen description: the "Xen" ELF notes, or the legacy `__xen_guest`
 * string when there are none (Xen's libelf-dominfo.c rules, hypercalls-x86_32.md §11).
 *
 * Acceptance checks (a failure is a BuildError naming the bad value):
 *  - XEN_VERSION must start with "xen-3.0"; LOADER must start with "generic" unless
 *    GUEST_OS starts with "linux";
 *  - the kernel must be 32-bit PAE (PAE_MODE yes / bimodal / legacy "yes...");
 *  - every '!'-required feature must be one Xen offers a 32-bit PV guest;
 *  - VIRT_BASE <= kernel start; the entry point and the hypercall page lie in the image.
 * Addresses: load VA of a segment = p_paddr + (VIRT_BASE - PADDR_OFFSET), PADDR_OFFSET
 * defaulting to 0 with notes and to VIRT_BASE for the legacy string.
 */
import { Elf32, PT_LOAD, type ElfSegment } from '../../hw/loader/elf.ts';
import {
  XEN_ELFNOTE_ENTRY, XEN_ELFNOTE_FEATURES, XEN_ELFNOTE_GUEST_OS, XEN_ELFNOTE_GUEST_VERSION,
  XEN_ELFNOTE_HYPERCALL_PAGE, XEN_ELFNOTE_LOADER, XEN_ELFNOTE_LOADER_GENERIC, XEN_ELFNOTE_GUEST_OS_LINUX,
  XEN_ELFNOTE_NAME, XEN_ELFNOTE_PADDR_OFFSET, XEN_ELFNOTE_PAE_MODE, XEN_ELFNOTE_SUPPORTED_FEATURES,
  XEN_ELFNOTE_VIRT_BASE, XEN_ELFNOTE_XEN_VERSION, XEN_ELFNOTE_XEN_VERSION_PREFIX, XEN_GUEST_SECTION,
} from '../../abi/elfnote.ts';
import {
  XENFEAT_NAMES, XENFEAT_gnttab_map_avail_bits, XENFEAT_highmem_assist, XENFEAT_mmu_pt_update_preserve_ad,
  XENFEAT_pae_pgdir_above_4gb, XENFEAT_dom0,
} from '../../abi/features.ts';

export class BuildError extends Error {
  override name = 'BuildError';
}

export type PaeMode = 'no' | 'yes' | 'extended-cr3' | 'bimodal';

export interface XenKernelInfo {
  readonly elf: Elf32;
  readonly guestOs: string;
  readonly guestVersion: string;
  readonly xenVersion: string;
  readonly loader: string;
  readonly virtBase: number;
  readonly paddrOffset: number;
  /** Kernel image [start, end) in guest virtual addresses. */
  readonly virtKstart: number;
  readonly virtKend: number;
  readonly entry: number;
  /** VA of the hypercall page, or -1. */
  readonly hypercallPage: number;
  readonly pae: PaeMode;
  /** XENFEAT bits the kernel requires / supports (submap 0). */
  readonly featuresRequired: number;
  readonly featuresSupported: number;
  /** Notes came from ELF notes (true) or the legacy __xen_guest string (false). */
  readonly fromNotes: boolean;
}

/** XENFEAT bits a 32-bit PV domU may require. */
export const PV32_FEATURES =
  (1 << XENFEAT_pae_pgdir_above_4gb) | (1 << XENFEAT_mmu_pt_update_preserve_ad) | (1 << XENFEAT_highmem_assist) |
  (1 << XENFEAT_gnttab_map_avail_bits);

function noteString(d: Uint8Array): string {
  let s = '';
  for (const b of d) {
    if (b === 0) break;
    s += String.fromCharCode(b);
  }
  return s;
}

function noteNumber(d: Uint8Array): number {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  switch (d.length) {
    case 1: return v.getUint8(0);
    case 2: return v.getUint16(0, true);
    case 4: return v.getUint32(0, true);
    case 8: return v.getUint32(0, true) + v.getUint32(4, true) * 0x100000000;
    default: throw new BuildError(`ELF note number of ${d.length} bytes`);
  }
}

/** Parse a FEATURES string: '|'-separated names, '!' = required. */
export function parseFeatures(s: string): { required: number; supported: number } {
  let required = 0, supported = 0;
  for (const raw of s.split('|')) {
    const item = raw.trim();
    if (item === '') continue;
    const req = item.startsWith('!');
    const name = req ? item.slice(1) : item;
    const bit = XENFEAT_NAMES[name];
    if (bit === undefined) {
      if (req) throw new BuildError(`kernel requires unknown feature "${name}"`);
      continue;
    }
    supported |= 1 << bit;
    if (req) required |= 1 << bit;
  }
  return { required, supported };
}

function parsePae(s: string, legacy: boolean): PaeMode {
  if (legacy) {
    if (s.startsWith('yes[extended-cr3]')) return 'extended-cr3';
    if (s.startsWith('yes')) return 'yes';
    return s.startsWith('bimodal') ? 'bimodal' : 'no';
  }
  if (s === 'yes') return 'extended-cr3';
  if (s.includes('bimodal')) return 'bimodal';
  return s === 'no' || s === '' ? 'no' : 'yes';
}

/** Read and check a PV kernel image; `privileged` allows the dom0 feature. */
export function readXenKernel(image: Uint8Array, privileged = false): XenKernelInfo {
  let elf: Elf32;
  try {
    elf = new Elf32(image);
  } catch (e) {
    throw new BuildError(`not a 32-bit x86 ELF kernel: ${(e as Error).message}`);
  }
  const loads: ElfSegment[] = elf.segments.filter((s) => s.type === PT_LOAD && s.memSize > 0);
  if (loads.length === 0) throw new BuildError('kernel has no loadable segments');
  const notes = elf.notes().filter((n) => n.name === XEN_ELFNOTE_NAME);
  let guestOs = '', guestVersion = '', xenVersion = '', loader = '', paeStr = '', features = '';
  let virtBase = 0, paddrOffset = -1, entry = -1, hypercall = -1, supportedBits = 0;
  const fromNotes = notes.length > 0;
  if (fromNotes) {
    for (const n of notes) {
      switch (n.type) {
        case XEN_ELFNOTE_GUEST_OS: guestOs = noteString(n.desc); break;
        case XEN_ELFNOTE_GUEST_VERSION: guestVersion = noteString(n.desc); break;
        case XEN_ELFNOTE_XEN_VERSION: xenVersion = noteString(n.desc); break;
        case XEN_ELFNOTE_LOADER: loader = noteString(n.desc); break;
        case XEN_ELFNOTE_PAE_MODE: paeStr = noteString(n.desc); break;
        case XEN_ELFNOTE_FEATURES: features = noteString(n.desc); break;
        case XEN_ELFNOTE_VIRT_BASE: virtBase = noteNumber(n.desc); break;
        case XEN_ELFNOTE_PADDR_OFFSET: paddrOffset = noteNumber(n.desc); break;
        case XEN_ELFNOTE_ENTRY: entry = noteNumber(n.desc); break;
        case XEN_ELFNOTE_HYPERCALL_PAGE: hypercall = noteNumber(n.desc); break;
        case XEN_ELFNOTE_SUPPORTED_FEATURES: supportedBits = noteNumber(n.desc); break;
        default: break;
      }
    }
    if (paddrOffset < 0) paddrOffset = 0;
  } else {
    const sec = elf.sections.find((s) => s.name === XEN_GUEST_SECTION);
    if (!sec) throw new BuildError('kernel has neither Xen ELF notes nor a __xen_guest section: not a Xen PV kernel');
    const text = noteString(image.subarray(sec.offset, sec.offset + sec.size));
    const kv = new Map<string, string>();
    for (const item of text.split(',')) {
      const eq = item.indexOf('=');
      kv.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
    }
    const num = (k: string): number | undefined => {
      const s = kv.get(k);
      if (s === undefined) return undefined;
      const x = /^0x/i.test(s) ? parseInt(s.slice(2), 16) : /^0[0-7]/.test(s) ? parseInt(s, 8) : parseInt(s, 10);
      if (!Number.isFinite(x)) throw new BuildError(`__xen_guest ${k}=${s} is not a number`);
      return x;
    };
    guestOs = kv.get('GUEST_OS') ?? '';
    guestVersion = kv.get('GUEST_VER') ?? '';
    xenVersion = kv.get('XEN_VER') ?? '';
    loader = kv.get('LOADER') ?? '';
    paeStr = kv.get('PAE') ?? '';
    features = kv.get('FEATURES') ?? '';
    virtBase = num('VIRT_BASE') ?? 0;
    paddrOffset = num('ELF_PADDR_OFFSET') ?? virtBase;
    entry = num('VIRT_ENTRY') ?? -1;
    const hp = num('HYPERCALL_PAGE');
    hypercall = hp === undefined ? -1 : virtBase + hp * 4096;
  }
  if (!xenVersion.startsWith(XEN_ELFNOTE_XEN_VERSION_PREFIX)) {
    throw new BuildError(`kernel's XEN_VERSION "${xenVersion}" does not start with "${XEN_ELFNOTE_XEN_VERSION_PREFIX}"`);
  }
  if (!loader.startsWith(XEN_ELFNOTE_LOADER_GENERIC) && !guestOs.startsWith(XEN_ELFNOTE_GUEST_OS_LINUX)) {
    throw new BuildError(`kernel's LOADER "${loader}" is not "generic" (GUEST_OS "${guestOs}")`);
  }
  const pae = parsePae(paeStr, !fromNotes);
  if (pae === 'no') throw new BuildError('kernel is not PAE: only xen-3.0-x86_32p guests are supported');
  const feat = parseFeatures(features);
  const offer = PV32_FEATURES | (privileged ? 1 << XENFEAT_dom0 : 0);
  const missing = feat.required & ~offer;
  if (missing !== 0) {
    const names = Object.entries(XENFEAT_NAMES).filter(([, b]) => (missing & (1 << b)) !== 0).map(([n]) => n);
    throw new BuildError(`kernel requires features Xen does not offer a 32-bit PV guest: ${names.join(', ')}`);
  }
  const off = virtBase - paddrOffset;
  let kstart = Infinity, kend = 0;
  for (const s of loads) {
    kstart = Math.min(kstart, s.paddr + off);
    kend = Math.max(kend, s.paddr + off + s.memSize);
  }
  if (entry < 0) entry = elf.entry;
  if (kstart > kend || kend > 0xf5800000) throw new BuildError(`kernel range ${hex(kstart)}-${hex(kend)} is not usable`);
  if (virtBase > kstart) throw new BuildError(`VIRT_BASE ${hex(virtBase)} is above the kernel start ${hex(kstart)}`);
  if (entry < kstart || entry >= kend) throw new BuildError(`entry point ${hex(entry)} lies outside the kernel ${hex(kstart)}-${hex(kend)}`);
  if (hypercall >= 0 && (hypercall < kstart || hypercall >= kend || hypercall % 4096 !== 0)) {
    throw new BuildError(`hypercall page ${hex(hypercall)} lies outside the kernel or is not page aligned`);
  }
  return {
    elf, guestOs, guestVersion, xenVersion, loader, virtBase, paddrOffset, virtKstart: kstart, virtKend: kend, entry,
    hypercallPage: hypercall, pae, featuresRequired: feat.required, featuresSupported: feat.supported | supportedBits,
    fromNotes,
  };
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

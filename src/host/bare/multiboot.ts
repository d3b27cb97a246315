/**
 * Multiboot (v1) kernel loading for the bare PC, as GRUB legacy or QEMU's -kernel do it.
 *
 * The image must carry a Multiboot header (magic 0x1BADB002, flags, checksum summing to 0)
 * 4-byte aligned in its first 8 KiB. Loadable as an ELF32 (PT_LOAD segments at their
 * physical addresses, zero-filled to memsz) or, with header flag 16, through the header's
 * load addresses ("a.out kludge"). Header flags 0 (page-align modules: there are none) and
 * 1 (memory info) are honoured, 2 (video mode) is accepted and not provided; any other
 * required bit (3-15) is refused, as the spec says a loader must.
 *
 * The boot information (flags: mem, cmdline, mods (none), mmap, boot loader name) is built
 * below 1 MiB at INFO_BASE. Every address and size from the image is checked against the
 * image and machine memory; errors name the problem (BootError).
 */
import type { MachineMemory } from '../../hw/memory/machine_memory.ts';
import { maddr } from '../../hw/memory/addr.ts';
import { Elf32, ElfError, PT_LOAD } from '../../hw/loader/elf.ts';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
/** Where the boot information, command line, memory map and loader name go. */
export const INFO_BASE = 0x9000;
const INFO_END = 0x9c00;
/** A flat GDT for the loader's selectors: 0x08 code, 0x10 data (as QEMU's loader has). */
export const GDT_BASE = 0x800;

export class BootError extends Error {
  override name = 'BootError';
}

export interface MultibootHeader {
  readonly offset: number;
  readonly flags: number;
  readonly headerAddr: number;
  readonly loadAddr: number;
  readonly loadEndAddr: number;
  readonly bssEndAddr: number;
  readonly entryAddr: number;
}

export interface LoadedKernel {
  readonly entry: number;
  readonly infoAddr: number;
  /** [start, end) of what was loaded. */
  readonly loadStart: number;
  readonly loadEnd: number;
}

export function findMultibootHeader(image: Uint8Array): MultibootHeader {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const limit = Math.min(image.length, 8192) - 12;
  for (let o = 0; o <= limit; o += 4) {
    if (v.getUint32(o, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = v.getUint32(o + 4, true);
    const sum = (MULTIBOOT_HEADER_MAGIC + flags + v.getUint32(o + 8, true)) >>> 0;
    if (sum !== 0) continue;
    const unsupported = flags & 0xfff8;
    if (unsupported !== 0) {
      throw new BootError(`Multiboot header at offset ${o} requires unsupported features (flags 0x${flags.toString(16)})`);
    }
    const aout = (flags & 0x10000) !== 0;
    if (aout && o + 32 > image.length) throw new BootError('Multiboot header is truncated (address fields missing)');
    return {
      offset: o, flags,
      headerAddr: aout ? v.getUint32(o + 12, true) : 0,
      loadAddr: aout ? v.getUint32(o + 16, true) : 0,
      loadEndAddr: aout ? v.getUint32(o + 20, true) : 0,
      bssEndAddr: aout ? v.getUint32(o + 24, true) : 0,
      entryAddr: aout ? v.getUint32(o + 28, true) : 0,
    };
  }
  throw new BootError('no Multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB');
}

function checkRange(mem: MachineMemory, start: number, len: number, what: string): void {
  if (start < 0x100000 && start + len > INFO_BASE && start < INFO_END) {
    throw new BootError(`${what} [0x${start.toString(16)}, +0x${len.toString(16)}) overlaps the boot information area`);
  }
  if (!mem.contains(start, len)) {
    throw new BootError(`${what} [0x${start.toString(16)}, +0x${len.toString(16)}) does not fit in ${mem.size >> 20} MiB of memory`);
  }
}

/** Load `image` into `mem` and write the boot information. */
export function loadMultiboot(mem: MachineMemory, image: Uint8Array, cmdline: string): LoadedKernel {
  const h = findMultibootHeader(image);
  let entry: number, loadStart = Infinity, loadEnd = 0;
  if ((h.flags & 0x10000) !== 0) {
    // a.out kludge: the file from header_addr - (offset) is loaded at load_addr
    const fileStart = h.offset - (h.headerAddr - h.loadAddr);
    if (h.headerAddr < h.loadAddr || fileStart < 0) throw new BootError('Multiboot header: header_addr below load_addr');
    const loadEndAddr = h.loadEndAddr === 0 ? h.loadAddr + (image.length - fileStart) : h.loadEndAddr;
    const len = loadEndAddr - h.loadAddr;
    if (len < 0 || fileStart + len > image.length) throw new BootError('Multiboot header: load range runs past the end of the image');
    const bssEnd = h.bssEndAddr === 0 ? loadEndAddr : h.bssEndAddr;
    if (bssEnd < loadEndAddr) throw new BootError('Multiboot header: bss_end_addr below load_end_addr');
    checkRange(mem, h.loadAddr, bssEnd - h.loadAddr, 'kernel image');
    mem.writeBytes(maddr(h.loadAddr), image.subarray(fileStart, fileStart + len));
    mem.fill(maddr(loadEndAddr), bssEnd - loadEndAddr, 0);
    loadStart = h.loadAddr;
    loadEnd = bssEnd;
    entry = h.entryAddr;
  } else {
    let elf: Elf32;
    try {
      elf = new Elf32(image);
    } catch (e) {
      if (e instanceof ElfError) throw new BootError(`kernel is not a loadable ELF32 image: ${e.message}`);
      throw e;
    }
    entry = elf.entry;
    for (const s of elf.segments) {
      if (s.type !== PT_LOAD || s.memSize === 0) continue;
      checkRange(mem, s.paddr, s.memSize, 'ELF segment');
      mem.writeBytes(maddr(s.paddr), elf.segmentData(s));
      mem.fill(maddr(s.paddr + s.fileSize), s.memSize - s.fileSize, 0);
      loadStart = Math.min(loadStart, s.paddr);
      loadEnd = Math.max(loadEnd, s.paddr + s.memSize);
      // an entry point given as a virtual address inside this segment
      if (s.vaddr !== s.paddr && entry >= s.vaddr && entry < s.vaddr + s.memSize) entry = entry - s.vaddr + s.paddr;
    }
  }
  if (!(entry >= loadStart && entry < loadEnd)) {
    throw new BootError(`entry point 0x${entry.toString(16)} is outside the loaded image [0x${loadStart.toString(16)}, 0x${loadEnd.toString(16)})`);
  }
  const infoAddr = writeBootInfo(mem, cmdline);
  writeGdt(mem);
  return { entry, infoAddr, loadStart, loadEnd };
}

function writeBootInfo(mem: MachineMemory, cmdline: string): number {
  const info = INFO_BASE;
  const cmdAddr = info + 0x100;
  const mmapAddr = info + 0x600;
  const nameAddr = info + 0x700;
  const enc = new TextEncoder();
  const cmd = enc.encode(cmdline);
  if (cmd.length > 0x4ff) throw new BootError(`command line is ${cmd.length} bytes; at most 1279 fit`);
  mem.fill(maddr(info), INFO_END - info, 0);
  mem.writeBytes(maddr(cmdAddr), cmd);
  const name = enc.encode('tsxen bare');
  mem.writeBytes(maddr(nameAddr), name);
  const upperKiB = Math.floor((mem.size - 0x100000) / 1024);
  // memory map: each entry is size(4) base(8) length(8) type(4)
  const ranges: Array<[number, number, number]> = [
    [0, 0x9fc00, 1],
    [0x9fc00, 0x400, 2],
    [0xf0000, 0x10000, 2],
    [0x100000, mem.size - 0x100000, 1],
  ];
  let o = mmapAddr;
  for (const [base, len, type] of ranges) {
    mem.write32(maddr(o), 20);
    mem.write32(maddr(o + 4), base);
    mem.write32(maddr(o + 8), 0);
    mem.write32(maddr(o + 12), len);
    mem.write32(maddr(o + 16), 0);
    mem.write32(maddr(o + 20), type);
    o += 24;
  }
  // flags: mem (0), cmdline (2), mods (3), mmap (6), boot loader name (9)
  mem.write32(maddr(info), (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
  mem.write32(maddr(info + 4), 639);
  mem.write32(maddr(info + 8), upperKiB);
  mem.write32(maddr(info + 16), cmdAddr);
  mem.write32(maddr(info + 20), 0);
  mem.write32(maddr(info + 24), 0);
  mem.write32(maddr(info + 44), o - mmapAddr);
  mem.write32(maddr(info + 48), mmapAddr);
  mem.write32(maddr(info + 64), nameAddr);
  return info;
}

function writeGdt(mem: MachineMemory): void {
  const g = GDT_BASE;
  mem.fill(maddr(g), 24, 0);
  // 0x08: base 0, limit 4 GiB, 32-bit code exec/read; 0x10: 32-bit data read/write
  mem.write32(maddr(g + 8), 0x0000ffff);
  mem.write32(maddr(g + 12), 0x00cf9b00);
  mem.write32(maddr(g + 16), 0x0000ffff);
  mem.write32(maddr(g + 20), 0x00cf9300);
}

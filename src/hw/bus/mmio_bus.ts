/**
 * Memory-mapped I/O regions of the machine-physical address space (LAPIC, IOAPIC, PCI BARs,
 * VGA window). The CPU reaches this bus only from its TLB slow path: a translation whose
 * machine address is not RAM, or is RAM shadowed by a region, is flagged MMIO and never
 * takes the fast path.
 *
 * Invariants:
 *  - Regions do not overlap (register throws on overlap: a wiring bug) and are kept sorted.
 *  - Addresses with no region read as all-ones and ignore writes (an open bus), never throw.
 *  - An access crossing a region's end is split into byte accesses.
 *  - `generation` increases on every (un)registration so CPUs know to flush their TLBs.
 */
import type { AccessSize, BusDevice } from './bus_device.ts';

interface MmioRegion {
  readonly base: number;
  readonly length: number;
  readonly device: BusDevice;
  readonly name: string;
}

const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

export class MmioBus {
  private _regions: MmioRegion[] = [];
  generation = 0;

  register(base: number, length: number, device: BusDevice, name: string): void {
    if (!Number.isInteger(base) || !Number.isInteger(length) || base < 0 || length <= 0 || base + length > 0x1_0000_0000) {
      throw new RangeError(`MMIO range ${base}+${length} for ${name} is outside the 4 GiB space`);
    }
    for (const r of this._regions) {
      if (base < r.base + r.length && r.base < base + length) {
        throw new Error(`MMIO range 0x${base.toString(16)}+${length} for ${name} overlaps ${r.name}`);
      }
    }
    this._regions = [...this._regions, { base, length, device, name }].sort((a, b) => a.base - b.base);
    this.generation++;
  }

  unregister(base: number): void {
    this._regions = this._regions.filter((r) => r.base !== base);
    this.generation++;
  }

  /** True if any region intersects the 4 KiB frame containing `addr`. */
  claimsFrame(addr: number): boolean {
    const lo = Math.floor(addr / 4096) * 4096;
    for (const r of this._regions) if (lo < r.base + r.length && r.base < lo + 4096) return true;
    return false;
  }

  private _find(addr: number): MmioRegion | undefined {
    const rs = this._regions;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (addr >= r.base && addr < r.base + r.length) return r;
    }
    return undefined;
  }

  read(addr: number, size: AccessSize): number {
    addr = addr >>> 0;
    const r = this._find(addr);
    if (r && addr + size <= r.base + r.length) return (r.device.read(addr - r.base, size) & SIZE_MASK[size]) >>> 0;
    if (size === 1) return r ? (r.device.read(addr - r.base, 1) & 0xff) : 0xff;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.read(addr + i, 1);
    return v >>> 0;
  }

  write(addr: number, size: AccessSize, value: number): void {
    addr = addr >>> 0;
    const r = this._find(addr);
    if (r && addr + size <= r.base + r.length) {
      r.device.write(addr - r.base, size, (value & SIZE_MASK[size]) >>> 0);
      return;
    }
    if (size === 1) {
      if (r) r.device.write(addr - r.base, 1, value & 0xff);
      return;
    }
    for (let i = 0; i < size; i++) this.write(addr + i, 1, (value >>> (8 * i)) & 0xff);
  }
}

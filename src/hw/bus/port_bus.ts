/**
 * The x86 I/O port space: 65,536 byte ports, each owned by at most one BusDevice.
 *
 * Invariants:
 *  - `_owner[port]` is 0 for an unclaimed port, else 1 + the index of the mapping in
 *    `_maps`; mappings never overlap (register throws on overlap: a wiring bug).
 *  - An access that lies entirely inside one mapping is one device call with the offset
 *    from that mapping's base; any other multi-byte access is split into byte accesses,
 *    as the ISA bus does. Unclaimed ports read as all-ones and ignore writes.
 *  - Lookup is one typed-array load; the bus allocates nothing per access.
 */
import type { AccessSize, BusDevice } from './bus_device.ts';

interface PortMapping {
  readonly base: number;
  readonly length: number;
  readonly device: BusDevice;
  readonly name: string;
}

const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

export class PortBus {
  private readonly _owner = new Uint16Array(0x10000);
  private readonly _maps: PortMapping[] = [];

  /** Map `device` at ports [base, base + length). */
  register(base: number, length: number, device: BusDevice, name: string): void {
    if (!Number.isInteger(base) || !Number.isInteger(length) || base < 0 || length <= 0 || base + length > 0x10000) {
      throw new RangeError(`port range ${base}+${length} for ${name} is outside 0..0xffff`);
    }
    for (let p = base; p < base + length; p++) {
      const o = this._owner[p]!;
      if (o !== 0) throw new Error(`port 0x${p.toString(16)} for ${name} already belongs to ${this._maps[o - 1]!.name}`);
    }
    this._maps.push({ base, length, device, name });
    const idx = this._maps.length;
    for (let p = base; p < base + length; p++) this._owner[p] = idx;
  }

  /** Remove the mapping that starts at `base` (device hot-unplug, tests). */
  unregister(base: number): void {
    const o = this._owner[base & 0xffff]!;
    if (o === 0) return;
    const m = this._maps[o - 1]!;
    for (let p = m.base; p < m.base + m.length; p++) this._owner[p] = 0;
  }

  /** The name of the device at `port`, or undefined. */
  ownerName(port: number): string | undefined {
    const o = this._owner[port & 0xffff]!;
    return o === 0 ? undefined : this._maps[o - 1]!.name;
  }

  read(port: number, size: AccessSize): number {
    port &= 0xffff;
    const o = this._owner[port]!;
    if (o !== 0) {
      const m = this._maps[o - 1]!;
      if (port + size <= m.base + m.length) return (m.device.read(port - m.base, size) & SIZE_MASK[size]) >>> 0;
    } else if (size === 1) {
      return 0xff;
    }
    if (size === 1) return 0xff;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.read((port + i) & 0xffff, 1);
    return v >>> 0;
  }

  write(port: number, size: AccessSize, value: number): void {
    port &= 0xffff;
    const o = this._owner[port]!;
    if (o !== 0) {
      const m = this._maps[o - 1]!;
      if (port + size <= m.base + m.length) {
        m.device.write(port - m.base, size, (value & SIZE_MASK[size]) >>> 0);
        return;
      }
    }
    if (size === 1) return;
    for (let i = 0; i < size; i++) this.write((port + i) & 0xffff, 1, (value >>> (8 * i)) & 0xff);
  }
}

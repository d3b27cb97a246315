/**
 * The one interface every device model implements (after Firecracker's BusDevice): the bus
 * calls read/write with an offset relative to where the device was mapped, so a device never
 * knows its port or physical address and can be mapped anywhere (COM1 or COM2, ISA or PCI).
 *
 * Contract:
 *  - `size` is 1, 2 or 4 and the access lies inside the range the device was registered
 *    with (the bus splits accesses that run past the end into byte accesses).
 *  - read returns the value zero-extended to 32 bits (values >= 2^31 may be returned as
 *    negative int32 or as unsigned; the bus masks to `size`).
 *  - Devices never throw on guest input: unknown registers read as all-ones or zero as the
 *    real device does, and writes to them are ignored.
 */
export type AccessSize = 1 | 2 | 4;

export interface BusDevice {
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
}

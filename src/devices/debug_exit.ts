/**
 * QEMU's isa-debug-exit device (a test-harness port, 0xf4 on our bare PC): a write of value
 * v asks the machine to stop with exit status (v << 1) | 1, which is what QEMU's process
 * exits with, so scripts treat tsxen and QEMU alike. Reads return all-ones. Any access size
 * is accepted; the value is the whole written value, as QEMU's iosize-4 mapping sees it.
 */
import type { AccessSize, BusDevice } from '../hw/bus/bus_device.ts';

export class DebugExit implements BusDevice {
  /** The last value written, or -1. */
  value = -1;

  constructor(private readonly _onExit: (value: number) => void) {}

  read(_offset: number, _size: AccessSize): number {
    return 0xffffffff;
  }

  write(_offset: number, _size: AccessSize, v: number): void {
    this.value = v >>> 0;
    this._onExit(this.value);
  }

  /** The process exit status QEMU would give for value `v`. */
  static status(v: number): number {
    return ((v << 1) | 1) >>> 0;
  }
}

/**
 * The two ways a PC opens the A20 gate and resets itself:
 *  - SystemControlA, port 0x92 ("fast A20"): bit 1 = A20 enabled, bit 0 = reset (a 0 -> 1
 *    transition pulses the CPU's reset line).
 *  - I8042, ports 0x60/0x64: the keyboard controller's output port (command 0xd1 then a
 *    data byte: bit 1 = A20, bit 0 = 0 resets), 0xd0 reads it back, 0xdd/0xdf disable/enable
 *    A20, 0xfe pulses reset, plus the status/command-byte protocol and self tests a driver
 *    probes with (0x20/0x60 command byte, 0xaa -> 0x55, 0xab -> 0x00, 0xad/0xae). No keyboard
 *    is attached: keyboard commands are acknowledged and nothing is ever typed.
 */
import type { AccessSize, BusDevice } from '../hw/bus/bus_device.ts';

/** What the platform does with A20 and reset requests. */
export interface A20Control {
  setA20(enabled: boolean): void;
  readonly a20Enabled: boolean;
  reset(): void;
}

export class SystemControlA implements BusDevice {
  private _v = 0;
  constructor(private readonly _ctl: A20Control) {}
  read(_o: number, _s: AccessSize): number {
    return (this._v & ~2) | (this._ctl.a20Enabled ? 2 : 0);
  }
  write(_o: number, _s: AccessSize, v: number): void {
    const old = this._v;
    this._v = v & 0xff;
    this._ctl.setA20((v & 2) !== 0);
    if ((v & 1) !== 0 && (old & 1) === 0) this._ctl.reset();
  }
}

export class I8042 implements BusDevice {
  private _out: number[] = [];
  private _pendingCmd = -1;
  private _cmdByte = 0x45;

  constructor(private readonly _ctl: A20Control) {}

  private _outputPort(): number {
    return 0x01 | (this._ctl.a20Enabled ? 0x02 : 0);
  }

  read(offset: number, _s: AccessSize): number {
    if ((offset & 4) !== 0) {
      // status: OBF, IBF always 0, system flag set, last write was a command
      return (this._out.length > 0 ? 1 : 0) | 0x04 | (this._pendingCmd >= 0 ? 0x08 : 0);
    }
    return this._out.length > 0 ? this._out.shift()! : 0;
  }

  write(offset: number, _s: AccessSize, v: number): void {
    v &= 0xff;
    if ((offset & 4) !== 0) {
      this._pendingCmd = -1;
      switch (v) {
        case 0x20: this._out.push(this._cmdByte); break;
        case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: this._pendingCmd = v; break;
        case 0xaa: this._out.push(0x55); break;
        case 0xab: this._out.push(0x00); break;
        case 0xad: this._cmdByte |= 0x10; break;
        case 0xae: this._cmdByte &= ~0x10; break;
        case 0xa7: this._cmdByte |= 0x20; break;
        case 0xa8: this._cmdByte &= ~0x20; break;
        case 0xd0: this._out.push(this._outputPort()); break;
        case 0xdd: this._ctl.setA20(false); break;
        case 0xdf: this._ctl.setA20(true); break;
        default:
          // 0xf0-0xff pulse output-port lines; bit 0 low = reset
          if (v >= 0xf0 && (v & 1) === 0) this._ctl.reset();
          break;
      }
      return;
    }
    const cmd = this._pendingCmd;
    this._pendingCmd = -1;
    switch (cmd) {
      case 0x60: this._cmdByte = v; break;
      case 0xd1:
        this._ctl.setA20((v & 2) !== 0);
        if ((v & 1) === 0) this._ctl.reset();
        break;
      case 0xd2: case 0xd3: this._out.push(v); break;
      case 0xd4: this._out.push(0xfe); break; // no mouse: resend
      default: this._out.push(0xfe); break; // keyboard data with no keyboard: resend
    }
  }
}

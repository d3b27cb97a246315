/**
 * The bare PC: one IA-32 CPU (with x87) and the few platform pieces a Multiboot test kernel
 * or an early kernel boot needs, no hypervisor.
 *
 *   memory   RAM from 0, `memoryMiB` MiB
 *   ports    0x20/0xa0 i8259 pair (+ ELCR 0x4d0), 0x40 i8254, 0x61 port B (PIT gate/out),
 *            0x60/0x64 i8042 (A20, reset), 0x92 system control A (fast A20, reset),
 *            0x3f8 COM1 UART 16550 (IRQ 4), 0xf4 isa-debug-exit
 *   IRQs     0 PIT, 4 COM1, 13 x87 FERR#
 *
 * Invariants: devices only run between CPU slices (update(now)), except that port accesses
 * run them synchronously from inside the CPU; the driver derives each slice's budget from
 * the next timer deadline so a virtual-time run is exactly reproducible.
 */
import { MachineMemory } from '../../hw/memory/machine_memory.ts';
import { PortBus } from '../../hw/bus/port_bus.ts';
import { MmioBus } from '../../hw/bus/mmio_bus.ts';
import type { AccessSize, BusDevice } from '../../hw/bus/bus_device.ts';
import { VirtualClock, type Clock } from '../../hw/clock.ts';
import { ControllerPin } from '../../hw/irq.ts';
import { Cpu } from '../../hw/cpu/cpu.ts';
import { Fpu } from '../../hw/cpu/fpu/fpu.ts';
import { setFlatProtectedMode } from '../../hw/cpu/flat.ts';
import { Uart16550 } from '../../devices/uart16550.ts';
import { PicPair } from '../../devices/i8259.ts';
import { I8254, PcSpeakerPort } from '../../devices/i8254.ts';
import { DebugExit } from '../../devices/debug_exit.ts';
import { I8042, SystemControlA, type A20Control } from '../../devices/a20.ts';
import { GDT_BASE, MULTIBOOT_BOOTLOADER_MAGIC, loadMultiboot, type LoadedKernel } from './multiboot.ts';

/** Shifts the offset a device sees (one device behind two separate port ranges). */
class Offset implements BusDevice {
  constructor(private readonly _d: BusDevice, private readonly _add: number) {}
  read(o: number, s: AccessSize): number {
    return this._d.read(o + this._add, s);
  }
  write(o: number, s: AccessSize, v: number): void {
    this._d.write(o + this._add, s, v);
  }
}

export interface BarePcOptions {
  memoryMiB: number;
  clock: Clock;
  /** Every byte the guest sends on COM1. */
  onSerial: (byte: number) => void;
}

export class BarePc implements A20Control {
  readonly memory: MachineMemory;
  readonly ports = new PortBus();
  readonly mmio = new MmioBus();
  readonly cpu: Cpu;
  readonly pic = new PicPair();
  readonly pit: I8254;
  readonly uart: Uart16550;
  readonly debugExit: DebugExit;
  /** Set when the guest wrote the debug-exit port. */
  exitValue = -1;
  /** Set when the guest asked for a reset (port 0x92, i8042): the run ends. */
  resetRequested = false;

  constructor(readonly opts: BarePcOptions) {
    const { memoryMiB, clock } = opts;
    if (!Number.isInteger(memoryMiB) || memoryMiB < 2 || memoryMiB > 2047) {
      throw new RangeError(`memory ${memoryMiB} MiB is not an integer in 2..2047`);
    }
    this.memory = new MachineMemory(memoryMiB * 1024 * 1024);
    this.cpu = new Cpu({ memory: this.memory, clock, ports: this.ports, mmio: this.mmio, fpu: new Fpu(), intr: this.pic });
    this.pic.onChange = () => this.cpu.checkInterrupts();
    this.pit = new I8254(clock, new ControllerPin(this.pic, 0));
    this.uart = new Uart16550(opts.onSerial, new ControllerPin(this.pic, 4));
    this.debugExit = new DebugExit((v) => {
      this.exitValue = v;
      this.cpu.requestExit();
    });
    const p = this.ports;
    p.register(0x20, 2, this.pic.master, 'i8259 master');
    p.register(0xa0, 2, this.pic.slave, 'i8259 slave');
    p.register(0x4d0, 2, this.pic.elcr, 'i8259 ELCR');
    p.register(0x40, 4, this.pit, 'i8254');
    p.register(0x61, 1, new PcSpeakerPort(this.pit, clock), 'port B');
    const kbc = new I8042(this);
    p.register(0x60, 1, kbc, 'i8042 data');
    p.register(0x64, 1, new Offset(kbc, 4), 'i8042 command');
    p.register(0x92, 1, new SystemControlA(this), 'system control A');
    p.register(0x3f8, 8, this.uart, 'COM1');
    p.register(0xf4, 4, this.debugExit, 'isa-debug-exit');
    this.cpu.onFerr = () => {
      this.pic.setIrq(13, true);
      this.pic.setIrq(13, false);
    };
    if (clock instanceof VirtualClock) clock.attach(this.cpu);
  }

  // A20Control
  setA20(enabled: boolean): void {
    this.cpu.setA20(enabled);
  }

  get a20Enabled(): boolean {
    return this.cpu.a20Enabled;
  }

  reset(): void {
    this.resetRequested = true;
    this.cpu.requestExit();
  }

  /** Load a Multiboot kernel and put the CPU in the state the spec hands over. */
  boot(image: Uint8Array, cmdline: string): LoadedKernel {
    const k = loadMultiboot(this.memory, image, cmdline);
    const cpu = this.cpu;
    cpu.reset();
    cpu.setA20(true);
    setFlatProtectedMode(cpu, { cpl: 0 });
    cpu.gdtBase = GDT_BASE;
    cpu.gdtLimit = 23;
    cpu.regs[0] = MULTIBOOT_BOOTLOADER_MAGIC;
    cpu.regs[3] = k.infoAddr;
    cpu.eip = k.entry | 0;
    return k;
  }
}

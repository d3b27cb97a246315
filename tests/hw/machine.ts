/**
 * A minimal machine for CPU unit tests: memory, a port bus, a virtual clock and one Cpu,
 * started in flat 32-bit protected mode (ring 0, paging off) or real mode. Helpers load
 * code and data, build descriptors and page tables, and run to HLT.
 */
import { MachineMemory } from '../../src/hw/memory/machine_memory.ts';
import { maddr } from '../../src/hw/memory/addr.ts';
import { PortBus } from '../../src/hw/bus/port_bus.ts';
import { MmioBus } from '../../src/hw/bus/mmio_bus.ts';
import { VirtualClock } from '../../src/hw/clock.ts';
import { Cpu, type CpuOptions } from '../../src/hw/cpu/cpu.ts';
import { setFlatProtectedMode } from '../../src/hw/cpu/flat.ts';
import { ExitReason } from '../../src/hw/cpu/exit.ts';
import { Fpu } from '../../src/hw/cpu/fpu/fpu.ts';

export interface TestMachine {
  mem: MachineMemory;
  ports: PortBus;
  mmio: MmioBus;
  clock: VirtualClock;
  cpu: Cpu;
  /** Write bytes at a machine address. */
  load(addr: number, bytes: Uint8Array | readonly number[]): void;
  r32(addr: number): number;
  w32(addr: number, v: number): void;
  /** Run until HLT (or another exit); returns the exit reason. */
  run(budget?: number): number;
}

export interface MachineOptions {
  memMiB?: number;
  mode?: 'flat32' | 'real';
  cpl?: number;
  fpu?: boolean;
  cpu?: Partial<CpuOptions>;
}

export function machine(opts: MachineOptions = {}): TestMachine {
  const mem = new MachineMemory((opts.memMiB ?? 4) << 20);
  const ports = new PortBus();
  const mmio = new MmioBus();
  const clock = new VirtualClock();
  const cpu = new Cpu({ memory: mem, clock, ports, mmio, fpu: opts.fpu ? new Fpu() : null, ...opts.cpu });
  clock.attach(cpu);
  if ((opts.mode ?? 'flat32') === 'flat32') setFlatProtectedMode(cpu, { cpl: opts.cpl ?? 0 });
  return {
    mem, ports, mmio, clock, cpu,
    load(addr, bytes) {
      mem.writeBytes(maddr(addr), bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    },
    r32(addr) {
      return mem.read32(maddr(addr));
    },
    w32(addr, v) {
      mem.write32(maddr(addr), v >>> 0);
    },
    run(budget = 10_000_000) {
      return cpu.run(budget);
    },
  };
}

export { ExitReason };

/** An 8-byte segment descriptor (lo, hi) for base/limit/type byte (P DPL S TYPE)/flags (G D). */
export function descriptor(base: number, limit: number, access: number, flags = 0xc): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}

/** A gate descriptor (interrupt 0x8e, trap 0x8f, call 0x8c, task 0x85 | DPL << 5). */
export function gate(sel: number, offset: number, access: number, params = 0): [number, number] {
  const lo = ((sel & 0xffff) << 16) | (offset & 0xffff);
  const hi = (offset & 0xffff0000) | ((access & 0xff) << 8) | (params & 0x1f);
  return [lo >>> 0, hi >>> 0];
}

/**
 * A GDT at 0x800 matching the flat selectors setFlatProtectedMode uses: 0x08 ring-0 code,
 * 0x10 ring-0 data, 0x18 ring-3 code, 0x20 ring-3 data (and 0x28/0x30 ring-1 code/data).
 */
export function flatGdt(m: TestMachine): void {
  writeTable(m, 0x800, [
    [0, 0], descriptor(0, 0xfffff, 0x9b), descriptor(0, 0xfffff, 0x93), descriptor(0, 0xfffff, 0xfb),
    descriptor(0, 0xfffff, 0xf3), descriptor(0, 0xfffff, 0xbb), descriptor(0, 0xfffff, 0xb3),
  ]);
  m.cpu.gdtBase = 0x800;
  m.cpu.gdtLimit = 7 * 8 - 1;
}

/** Write descriptors as a table at `addr`. */
export function writeTable(m: TestMachine, addr: number, entries: ReadonlyArray<readonly [number, number]>): void {
  entries.forEach(([lo, hi], i) => {
    m.w32(addr + i * 8, lo);
    m.w32(addr + i * 8 + 4, hi);
  });
}

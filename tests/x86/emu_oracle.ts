/**
 * The emulator side of the differential tests: runs a TestCase in tsxen's emulated CPU
 * (src/hw/cpu, public API of docs/cpu.md) in ring 3 protected mode with the same linear
 * layout, selectors and descriptors the Linux host gives the native oracle, and reports
 * the same FinalState.
 *
 * The machine: a GDT mirroring the x86-64 kernel's 32-bit user entries (user CS/DS at the
 * host's selector indices, TLS entries for FS/GS with bases FS_BASE/GS_BASE), no LDT, PV
 * execution mode so every exception returns from run() as an exit with the architectural
 * state at delivery (no IDT, no handler code), software-interrupt gate DPL 3 for vectors 3
 * and 4 as Linux has them. Paging on (default): only the code, data and stub pages are
 * mapped user read/write, so stray accesses #PF as they do natively; or off.
 *
 * Invariants:
 *  - One Cpu and memory are reused across cases; every case writes all the state it
 *    depends on (registers, segments, EFLAGS, code, data, x87 via FRSTOR).
 *  - The case's code is followed by `jmp STUB_END`, where the stub (x87: FNSAVE) ends in
 *    HLT; HLT at CPL 3 is #GP(0), which is how a completed case is recognized. The jump and
 *    the stub change no state the comparison looks at. x87 state is loaded and stored by
 *    the emulated CPU's own FRSTOR/FNSAVE (through SS, which is always flat), exactly as
 *    the native oracle brackets a case with FRSTOR/FNSAVE.
 */

import { Cpu } from '../../src/hw/cpu/cpu.ts';
import { ExecMode, ExitReason } from '../../src/hw/cpu/exit.ts';
import { Fpu } from '../../src/hw/cpu/fpu/fpu.ts';
import { SegAttr } from '../../src/hw/cpu/regs.ts';
import { VirtualClock } from '../../src/hw/clock.ts';
import { MachineMemory } from '../../src/hw/memory/machine_memory.ts';
import { CODE_BASE, CODE_SIZE, DATA_BASE, DATA_SIZE, FS_BASE, GS_BASE, PAGE_SIZE, type Selectors } from './layout.ts';
import { FSAVE_SIZE, initialData, type FinalState, type TestCase } from './protocol.ts';

const MEM_BYTES = 4 << 20;
/** Stub page: FRSTOR prologue, the end-of-case stub, FSAVE images (unmapped natively). */
const STUB = 0x0018_0000;
const STUB_START = STUB; // frstor ss:[IMG_IN]; jmp CODE_BASE
const STUB_END = STUB + 0x100; // [fnsave ss:[IMG_OUT]]; hlt
const STUB_SAVE = STUB + 0x200; // fnsave ss:[IMG_OUT]; hlt  (after a fault)
const IMG_IN = STUB + 0x800;
const IMG_OUT = STUB + 0x900;
const GDT = 0x0002_0000;
const TSS = 0x0002_1000;
const GDT_ENTRIES = 16; // the x86-64 kernel's GDT size: selectors past it fault
const PGDIR = 0x0001_0000;
const PGTAB = 0x0001_1000;
const BUDGET = 2_000_000;

export interface EmuOptions {
  readonly paging: boolean;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** An 8-byte segment descriptor. `type` includes S and DPL: the access byte. */
function descriptor(base: number, limit20: number, access: number, flags: number): number[] {
  return [
    limit20 & 0xff, (limit20 >>> 8) & 0xff, base & 0xff, (base >>> 8) & 0xff, (base >>> 16) & 0xff,
    access, ((limit20 >>> 16) & 0xf) | (flags << 4), (base >>> 24) & 0xff,
  ];
}

export class EmuOracle {
  readonly cpu: Cpu;
  private readonly _mem: MachineMemory;

  constructor(private readonly _sel: Selectors, readonly options: EmuOptions = { paging: true }) {
    this._mem = new MachineMemory(MEM_BYTES);
    this.cpu = new Cpu({ memory: this._mem, clock: new VirtualClock(), fpu: new Fpu() });
    const cpu = this.cpu;
    cpu.controls.mode = ExecMode.PV;
    cpu.controls.softIntDpl.fill(0);
    cpu.controls.softIntDpl[3] = 3;
    cpu.controls.softIntDpl[4] = 3;
    // GDT
    const gdt = new Uint8Array(GDT_ENTRIES * 8);
    const put = (sel: number, d: number[]): void => gdt.set(d, (sel >> 3) * 8);
    put(_sel.cs, descriptor(0, 0xfffff, 0xfb, 0xc));
    put(_sel.ds, descriptor(0, 0xfffff, 0xf3, 0xc));
    // set_thread_area entries: 32-bit, page granular, `useable` (AVL) set, accessed.
    put(_sel.fs, descriptor(FS_BASE, 0xfffff, 0xf3, 0xd));
    put(_sel.gs, descriptor(GS_BASE, 0xfffff, 0xf3, 0xd));
    this._phys(GDT, gdt);
    cpu.gdtBase = GDT;
    cpu.gdtLimit = GDT_ENTRIES * 8 - 1;
    // Page tables: identity map the code, data and stub pages (user RW), GDT and tables (supervisor).
    const pt = new Uint8Array(PAGE_SIZE);
    const map = (lin: number, user: boolean): void => pt.set(le32(lin | 0x3 | (user ? 4 : 0)), ((lin >>> 12) & 0x3ff) * 4);
    for (let a = CODE_BASE; a < CODE_BASE + CODE_SIZE; a += PAGE_SIZE) map(a, true);
    for (let a = DATA_BASE; a < DATA_BASE + DATA_SIZE; a += PAGE_SIZE) map(a, true);
    map(STUB, true);
    map(GDT, false);
    map(TSS, false);
    this._phys(PGTAB, pt);
    this._phys(PGDIR, Uint8Array.from(le32(PGTAB | 0x7)));
    // Stubs.
    const jmpRel = (from: number, to: number): number[] => [0xe9, ...le32(to - (from + 5))];
    const startFrstor = [0x36, 0xdd, 0x25, ...le32(IMG_IN)]; // frstor ss:[IMG_IN]
    this._phys(STUB_START, Uint8Array.from([...startFrstor, ...jmpRel(STUB_START + startFrstor.length, CODE_BASE)]));
    this._phys(STUB_SAVE, Uint8Array.from([0x36, 0xdd, 0x35, ...le32(IMG_OUT), 0xf4])); // fnsave ss:[IMG_OUT]; hlt
    // A 32-bit TSS whose I/O map base lies past its limit (Linux without ioperm): I/O at
    // CPL 3 with IOPL 0 is #GP(0). No LDT, as for a process that never called modify_ldt.
    const tss = new Uint8Array(0x68);
    tss.set([0x68, 0], 0x66);
    this._phys(TSS, tss);
    const tssSel = 8 << 3; // GDT_ENTRY_TSS on x86-64
    gdt.set(descriptor(TSS, 0x67, 0x8b, 0), tssSel);
    this._phys(GDT, gdt);
    cpu.setSegment(7, { selector: tssSel, base: TSS, limit: 0x67, attr: 0xb | SegAttr.P });
    cpu.setSegment(6, { selector: 0, base: 0, limit: 0, attr: SegAttr.UNUSABLE });
    const cr0 = 0x1 | 0x10 | 0x20 | 0x10000 | 0x40000 | (options.paging ? 0x8000_0000 : 0);
    if (options.paging && !cpu.setCr3(PGDIR)) throw new Error('emu oracle: setCr3 refused');
    if (!cpu.setCr0(cr0)) throw new Error('emu oracle: setCr0 refused');
  }

  /** Write physical memory (identity: linear == physical for everything this harness maps). */
  private _phys(addr: number, bytes: Uint8Array): void {
    this._mem.u8.set(bytes, addr);
  }

  private _seg(sreg: number, selector: number): void {
    const s = selector & 0xffff;
    const idx = s >> 3;
    const user = (s & ~3) === (this._sel.cs & ~3) ? 0xb : 0x3;
    const base = (s & ~3) === (this._sel.fs & ~3) ? FS_BASE : (s & ~3) === (this._sel.gs & ~3) ? GS_BASE : 0;
    const dpl3 = 3 << 5;
    const tls = (s & ~3) === (this._sel.fs & ~3) || (s & ~3) === (this._sel.gs & ~3);
    const attr = idx === 0 ? SegAttr.UNUSABLE : user | SegAttr.S | dpl3 | SegAttr.P | SegAttr.DB | SegAttr.G | (tls ? SegAttr.AVL : 0);
    this.cpu.setSegment(sreg, { selector: s, base: idx === 0 ? 0 : base, limit: idx === 0 ? 0 : 0xffffffff, attr });
  }

  run(c: TestCase): FinalState {
    const cpu = this.cpu;
    const end = CODE_BASE + c.code.length;
    // Code, then `jmp STUB_END`; the stub: [fnsave]; hlt.
    const code = new Uint8Array(c.code.length + 5);
    code.set(c.code);
    code.set([0xe9, ...le32(STUB_END - (end + 5))], c.code.length);
    const endStub = c.x87 ? [0x36, 0xdd, 0x35, ...le32(IMG_OUT), 0xf4] : [0xf4];
    const hltAt = STUB_END + endStub.length - 1;
    if (!cpu.writeLinear(CODE_BASE, code, false)) throw new Error('emu oracle: code not writable');
    if (!cpu.writeLinear(STUB_END, Uint8Array.from(endStub), false)) throw new Error('emu oracle: stub');
    if (!cpu.writeLinear(DATA_BASE, initialData(c), false)) throw new Error('emu oracle: data not writable');
    if (c.x87 && !cpu.writeLinear(IMG_IN, c.x87, false)) throw new Error('emu oracle: x87 image');
    for (let r = 0; r < 8; r++) cpu.regs[r] = c.gpr[r]! | 0;
    this._seg(1, this._sel.cs);
    this._seg(2, this._sel.ds);
    this._seg(3, c.ds);
    this._seg(0, c.es);
    this._seg(4, c.fs);
    this._seg(5, c.gs);
    cpu.setEflags((c.eflags | 0x202) & ~0x3000);
    cpu.eip = c.x87 ? STUB_START : CODE_BASE;

    let reason = cpu.run(BUDGET);
    while (reason === ExitReason.KICK) reason = cpu.run(BUDGET);
    const x = cpu.exit;
    let status: FinalState['status'] = 'fault';
    let vector = 0, err = 0, cr2 = 0, eip = cpu.eip >>> 0;
    if (reason === ExitReason.EXCEPTION && x.vector === 13 && eip === hltAt) {
      status = 'done';
      eip = end;
    } else if (reason === ExitReason.EXCEPTION) {
      vector = x.vector; err = x.errorCode < 0 ? 0 : x.errorCode >>> 0; cr2 = x.vector === 14 ? x.cr2 >>> 0 : 0;
    } else if (reason === ExitReason.SOFT_INT) {
      vector = x.vector; eip = x.nextEip >>> 0;
    } else if (reason === ExitReason.BUDGET) {
      status = 'timeout';
    } else {
      throw new Error(`emu oracle: unexpected exit ${reason} at ${eip.toString(16)} for ${c.label}`);
    }
    const gpr = Array.from(cpu.regs, (v) => v >>> 0);
    const eflags = cpu.getEflags();
    const sel = (i: number): number => cpu.getSegment(i).selector;
    const state = {
      status, vector, err, cr2, signo: 0, gpr, eip, eflags,
      cs: sel(1), ss: sel(2), ds: sel(3), es: sel(0), fs: sel(4), gs: sel(5),
      mem: new Uint8Array(DATA_SIZE), x87: undefined as Uint8Array | undefined,
    };
    if (!cpu.readLinear(DATA_BASE, state.mem, false)) throw new Error('emu oracle: data not readable');
    if (c.x87) {
      if (status !== 'done') {
        // Store the x87 state at the fault with the CPU's own FNSAVE.
        this._seg(2, this._sel.ds);
        cpu.eip = STUB_SAVE;
        const r = cpu.run(1000);
        if (!(r === ExitReason.EXCEPTION && cpu.exit.vector === 13 && cpu.eip >>> 0 === STUB_SAVE + 7)) {
          throw new Error(`emu oracle: FNSAVE stub did not complete (exit ${r}, vector ${cpu.exit.vector}) for ${c.label}`);
        }
      }
      state.x87 = new Uint8Array(FSAVE_SIZE);
      if (!cpu.readLinear(IMG_OUT, state.x87, false)) throw new Error('emu oracle: x87 image not readable');
    }
    return state;
  }
}

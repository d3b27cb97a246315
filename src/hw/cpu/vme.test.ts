/**
 * CR4.VME and CR4.PVI (vme.ts), checked against the SDM's pseudocode for CLI, STI, PUSHF,
 * POPF, IRET and INT n (vol. 3 §20.3-20.4, table 20-2). No reference implementation runs
 * them here: QEMU's TCG does not implement VME (`-cpu ...,+vme,enforce` refuses) and the
 * x86-64 host cannot enter virtual-8086 mode, so these are the tests.
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { descriptor, flatGdt, gate, machine, writeTable, type TestMachine } from '../../../tests/hw/machine.ts';
import { defaultCpuidModel, CPUID_VME } from './cpuid.ts';
import { ExitReason } from './exit.ts';

const VM = 0x20000, VIF = 0x80000, VIP = 0x100000, IF = 0x200, TF = 0x100;
const TSS = 0x3000;
const MAP = 0x100; // I/O map base; the redirection bitmap is the 32 bytes below it

interface GpFrame { err: number; eip: number; cs: number; eflags: number; sp: number; ss: number }

/**
 * A CPU with a GDT, a 32-bit TSS (ring-0 stack 0x9000, redirection bitmap all clear) and a
 * #GP handler that copies its frame to 0x5000 and halts; `v86` code goes to 0x1000:0x0100.
 */
function setup(opts: { vme?: boolean; pvi?: boolean } = {}): TestMachine {
  const m = machine();
  flatGdt(m);
  writeTable(m, 0x800 + 7 * 8, [descriptor(TSS, 0x2067, 0x89, 0)]);
  m.cpu.gdtLimit = 8 * 8 - 1;
  m.w32(TSS + 4, 0x9000);
  m.w32(TSS + 8, 0x10);
  m.w32(TSS + 100, MAP << 16);
  m.cpu.setSegment(7, { selector: 0x38, base: TSS, limit: 0x2067, attr: 0x8b });
  m.cpu.idtBase = 0x400;
  m.cpu.idtLimit = 0x7ff;
  writeTable(m, 0x400 + 13 * 8, [gate(0x08, 0x4000, 0x8e)]);
  m.load(0x4000, asm('mov eax, 0x10; mov ds, eax; mov es, eax; cld; mov esi, esp; mov edi, 0x5000; mov ecx, 7; rep movsd; hlt'));
  expect(m.cpu.setCr4(m.cpu.cr4 | (opts.vme ? 1 : 0) | (opts.pvi ? 2 : 0))).toBe(true);
  return m;
}

/** Enter VM86 at 0x1000:0x0100 with `eflags` (VM added) by IRETD, SS:SP 0x2000:0xfff0. */
function runV86(m: TestMachine, code: string, eflags: number): number {
  m.load(0x10100, asm(code, { bits: 16 }));
  const frame = [0x100, 0x1000, eflags | VM | 2, 0xfff0, 0x2000, 0, 0, 0, 0];
  frame.forEach((v, i) => m.w32(0x7000 + i * 4, v));
  m.load(0x1000, asm('mov esp, 0x7000; iretd'));
  m.cpu.eip = 0x1000;
  m.cpu.halted = false;
  return m.run();
}

function gpFrame(m: TestMachine): GpFrame {
  const r = (k: number): number => m.r32(0x5000 + k * 4) >>> 0;
  return { err: r(0), eip: r(1), cs: r(2), eflags: r(3), sp: r(4), ss: r(5) };
}

/** Stop at the #GP a VM86 HLT raises: where and with which EFLAGS did the code get there. */
function endsAtHlt(m: TestMachine, code: string, eflags: number): GpFrame {
  expect(runV86(m, code, eflags)).toBe(ExitReason.HLT);
  const f = gpFrame(m);
  expect(m.r32(0x10100 + f.eip - 0x100) & 0xff).toBe(0xf4); // the #GP is the final HLT's
  return f;
}

describe('VME: IOPL-sensitive instructions in virtual-8086 mode with IOPL < 3', () => {
  it('CLI/STI change VIF, not IF; PUSHF shows VIF as IF and IOPL as 3', () => {
    const m = setup({ vme: true });
    const f = endsAtHlt(m, 'sti; pushf; pop bx; cli; pushf; pop dx; hlt', IF);
    expect([m.cpu.regs[3]! & 0xffff, m.cpu.regs[2]! & 0xffff]).toEqual([0x3202, 0x3002]);
    expect(f.eflags & (IF | VIF | 0x3000)).toBe(IF); // real IF untouched, VIF clear, IOPL 0
  });

  it('without CR4.VME they are #GP(0) at the instruction', () => {
    const m = setup();
    expect(runV86(m, 'nop; cli; hlt', IF)).toBe(ExitReason.HLT);
    expect([gpFrame(m).err, gpFrame(m).eip]).toEqual([0, 0x101]);
    const p = setup();
    expect(runV86(p, 'pushf; hlt', IF)).toBe(ExitReason.HLT);
    expect(gpFrame(p).eip).toBe(0x100);
  });

  it('STI with VIP set is #GP(0) and leaves VIF clear', () => {
    const m = setup({ vme: true });
    expect(runV86(m, 'sti; hlt', VIP)).toBe(ExitReason.HLT);
    const f = gpFrame(m);
    expect([f.err, f.eip, f.eflags & (VIF | VIP)]).toEqual([0, 0x100, VIP]);
  });

  it('16-bit POPF loads IF into VIF and the other flags, keeps IF and IOPL; TF, VIP+IF and POPFD are #GP(0)', () => {
    const m = setup({ vme: true });
    let f = endsAtHlt(m, 'push 0x3601; popf; hlt', 0); // CF, IF, DF, IOPL 3 in the image
    expect(f.eflags & (IF | VIF | 0x3000 | 1 | 0x400)).toBe(VIF | 1 | 0x400);
    f = endsAtHlt(setup({ vme: true }), 'push 0x0000; popf; hlt', IF | VIF);
    expect(f.eflags & (IF | VIF)).toBe(IF);
    for (const [prefix, insn, fl] of [['push 0x0100', 'popf', 0], ['push 0x0200', 'popf', VIP], ['push 0; push 0', 'popfd', 0]] as const) {
      const g = setup({ vme: true });
      expect(runV86(g, `${prefix}; ${insn}; hlt`, fl)).toBe(ExitReason.HLT);
      const at = gpFrame(g);
      const pushed = asm(prefix, { bits: 16 }).length;
      expect([at.err, at.eip, at.sp], insn).toEqual([0, 0x100 + pushed, 0xfff0 - (insn === 'popfd' ? 4 : 2)]);
    }
    const d = setup({ vme: true });
    expect(runV86(d, 'pushfd; hlt', 0)).toBe(ExitReason.HLT);
    expect(gpFrame(d).eip).toBe(0x100); // PUSHFD has no virtual form
  });

  it('16-bit IRET returns with IF into VIF; TF in the image and IRETD are #GP(0)', () => {
    const m = setup({ vme: true });
    // frame for IRET: IP 0x0120, CS 0x1000, FLAGS 0x0201 (CF, IF)
    const f = endsAtHlt(m, 'push 0x0201; push 0x1000; push 0x0120; iret; .org 0x20; mov bx, 7; hlt', 0);
    expect([m.cpu.regs[3]! & 0xffff, f.eflags & (IF | VIF | 1)]).toEqual([7, VIF | 1]);
    const tfPush = 'push 0x0100; push 0x1000; push 0x0120';
    const t = setup({ vme: true });
    expect(runV86(t, `${tfPush}; iret; hlt`, 0)).toBe(ExitReason.HLT);
    expect(gpFrame(t).eip).toBe(0x100 + asm(tfPush, { bits: 16 }).length); // at the IRET
    const dPush = 'push 0; push 0; push 0; push 0x1000; push 0; push 0x0120';
    const d = setup({ vme: true });
    expect(runV86(d, `${dPush}; iretd; hlt`, 0)).toBe(ExitReason.HLT);
    expect(gpFrame(d).eip).toBe(0x100 + asm(dPush, { bits: 16 }).length);
  });
});

describe('VME: INT n and the interrupt redirection bitmap', () => {
  /** IVT entry 0x21 -> 0x1000:0x0180, whose code stores the stack and halts. */
  function ivt(m: TestMachine): void {
    m.w32(0x21 * 4, (0x1000 << 16) | 0x180);
    m.load(0x10180, asm('mov bp, sp; mov bx, [bp]; mov dx, [bp + 4]; hlt', { bits: 16 }));
  }

  it('bit clear, IOPL < 3: through the IVT; pushes FLAGS with IF = VIF and IOPL 3; clears VIF and TF only', () => {
    const m = setup({ vme: true });
    ivt(m);
    const f = endsAtHlt(m, 'int 0x21; hlt', IF | VIF);
    expect([m.cpu.regs[3]! & 0xffff, m.cpu.regs[2]! & 0xffff]).toEqual([0x102, 0x3202]);
    expect(f.eflags & (IF | VIF | TF)).toBe(IF);
    expect([f.cs, f.sp]).toEqual([0x1000, 0xfff0 - 6]);
  });

  it('bit clear, IOPL 3: through the IVT clearing IF, pushing the real FLAGS', () => {
    const m = setup({ vme: true });
    ivt(m);
    m.load(0x10180, asm('mov bp, sp; mov dx, [bp + 4]; pushf; pop bx; cli; hlt', { bits: 16 })); // IOPL 3: HLT still #GP
    const f = endsAtHlt(m, 'int 0x21; hlt', IF | 0x3000);
    expect([m.cpu.regs[2]! & 0xffff, m.cpu.regs[3]! & 0x200]).toEqual([0x3202, 0]);
    expect(f.eflags & IF).toBe(0);
  });

  it('bit set: #GP(0) with IOPL < 3, the IDT with IOPL 3; without VME the IOPL rule alone', () => {
    const m = setup({ vme: true });
    ivt(m);
    m.w32(TSS + MAP - 32 + 4, 1 << 1); // vector 0x21: byte 4, bit 1
    expect(runV86(m, 'int 0x21; hlt', 0)).toBe(ExitReason.HLT);
    expect([gpFrame(m).err, gpFrame(m).eip]).toEqual([0, 0x100]);
    const p = setup({ vme: true });
    p.w32(TSS + MAP - 32 + 4, 1 << 1);
    writeTable(p, 0x400 + 0x21 * 8, [gate(0x08, 0x4100, 0xee)]);
    p.load(0x4100, asm('mov ebx, 0x21; hlt'));
    expect(runV86(p, 'int 0x21', 0x3000)).toBe(ExitReason.HLT);
    expect([p.cpu.regs[3], p.cpu.cpl]).toEqual([0x21, 0]);
    const n = setup();
    ivt(n);
    writeTable(n, 0x400 + 0x21 * 8, [gate(0x08, 0x4100, 0xee)]);
    n.load(0x4100, asm('mov ebx, 0x21; hlt'));
    expect(runV86(n, 'int 0x21', 0x3000)).toBe(ExitReason.HLT);
    expect(n.cpu.regs[3]).toBe(0x21); // IOPL 3 without VME: the IDT, not the IVT
  });

  it('a redirected INT n clears TF: no single-step trap after it', () => {
    const m = setup({ vme: true });
    ivt(m);
    writeTable(m, 0x400 + 8, [gate(0x08, 0x4200, 0x8e)]);
    m.load(0x4200, asm('mov ebx, 0xdb; hlt'));
    const f = endsAtHlt(m, 'int 0x21; hlt', TF);
    expect([f.cs, f.eip, f.eflags & TF]).toEqual([0x1000, 0x180 + asm('mov bp, sp; mov bx, [bp]; mov dx, [bp + 4]', { bits: 16 }).length, 0]);
    expect(m.cpu.regs[2]! & TF).toBe(TF); // the pushed FLAGS still had it
  });

  it('INT3 is never redirected', () => {
    const m = setup({ vme: true });
    m.w32(3 * 4, (0x1000 << 16) | 0x180);
    writeTable(m, 0x400 + 3 * 8, [gate(0x08, 0x4100, 0xee)]);
    m.load(0x4100, asm('mov ebx, 3; hlt'));
    expect(runV86(m, 'int3', 0)).toBe(ExitReason.HLT);
    expect([m.cpu.regs[3], m.cpu.cpl]).toEqual([3, 0]);
  });
});

describe('PVI and the CPUID gate', () => {
  it('CLI/STI at CPL 3 above IOPL change VIF with PVI, #GP(0) without; CPL 1 stays #GP(0)', () => {
    for (const pvi of [true, false]) {
      const m = setup({ pvi });
      m.load(0x6000, asm('sti; pushfd; pop ebx; cli; pushfd; pop edx; hlt'));
      [0x6000, 0x1b, IF | 2, 0x8000, 0x23].forEach((v, i) => m.w32(0x7000 + i * 4, v));
      m.load(0x1000, asm('mov esp, 0x7000; iretd'));
      m.cpu.eip = 0x1000;
      expect(m.run()).toBe(ExitReason.HLT);
      const f = gpFrame(m);
      if (pvi) {
        expect([f.eip, m.cpu.regs[3]! & (IF | VIF), m.cpu.regs[2]! & (IF | VIF)]).toEqual([0x6006, IF | VIF, IF]);
      } else {
        expect([f.err, f.eip]).toEqual([0, 0x6000]);
      }
    }
    const r1 = setup({ pvi: true });
    r1.load(0x6000, asm('cli; hlt'));
    [0x6000, 0x29, IF | 2, 0x8000, 0x31].forEach((v, i) => r1.w32(0x7000 + i * 4, v)); // ring 1, IOPL 0
    r1.load(0x1000, asm('mov esp, 0x7000; iretd'));
    r1.cpu.eip = 0x1000;
    expect(r1.run()).toBe(ExitReason.HLT);
    expect([gpFrame(r1).err, gpFrame(r1).eip, gpFrame(r1).cs]).toEqual([0, 0x6000, 0x29]);
  });

  it('CR4.VME/PVI are reserved when the CPUID model has no VME', () => {
    const m = machine({ cpu: { cpuid: { edx1: defaultCpuidModel().edx1 & ~CPUID_VME } } });
    expect(m.cpu.setCr4(1)).toBe(false);
    expect(m.cpu.setCr4(2)).toBe(false);
    expect(machine().cpu.setCr4(3)).toBe(true);
  });
});

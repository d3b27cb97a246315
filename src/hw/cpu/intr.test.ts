/**
 * Interrupt and exception delivery: real-mode IVT, protected-mode gates with a ring switch,
 * external interrupts with the STI shadow, NMI blocking, double and triple faults.
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { flatGdt, gate, machine, writeTable, descriptor, type TestMachine } from '../../../tests/hw/machine.ts';
import { ExitReason } from './exit.ts';
import { Seg } from './regs.ts';

function idt(m: TestMachine, entries: Record<number, [number, number]>): void {
  const n = Math.max(...Object.keys(entries).map(Number)) + 1;
  const t: Array<[number, number]> = [];
  for (let v = 0; v < n; v++) t.push(entries[v] ?? [0, 0]);
  writeTable(m, 0x400, t);
  m.cpu.idtBase = 0x400;
  m.cpu.idtLimit = n * 8 - 1;
}

describe('real mode', () => {
  it('INT n goes through the IVT and IRET returns', () => {
    const m = machine({ mode: 'real' });
    m.cpu.reset();
    // IVT[0x21] = 0000:0600
    m.w32(0x21 * 4, 0x0600);
    m.load(0x600, asm('mov bx, 0x1234; iret', { bits: 16 }));
    m.load(0x7c00, asm('mov sp, 0x7000; int 0x21; hlt', { bits: 16, org: 0x7c00 }));
    m.cpu.setSegment(Seg.CS, { selector: 0, base: 0, limit: 0xffff, attr: 0x93 });
    m.cpu.eip = 0x7c00;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[3] & 0xffff).toBe(0x1234);
    expect(m.cpu.regs[4] & 0xffff).toBe(0x7000);
  });
});

function withTss(m: TestMachine): void {
  flatGdt(m);
  writeTable(m, 0x800 + 7 * 8, [descriptor(0x2000, 0x67, 0x89, 0)]);
  m.cpu.gdtLimit = 8 * 8 - 1;
  m.w32(0x2004, 0x9000);
  m.w32(0x2008, 0x10);
  m.load(0x5000, asm('ltr ax; hlt'));
  m.cpu.regs[0] = 0x38;
  m.cpu.eip = 0x5000;
  expect(m.run()).toBe(ExitReason.HLT);
  m.cpu.halted = false;
}

describe('gates and rings', () => {
  it('INT from ring 3 through a DPL-3 interrupt gate pushes SS:ESP, EFLAGS, CS:EIP on the ring-0 stack', () => {
    const m = machine({ cpl: 0 });
    withTss(m);
    idt(m, { 0x40: gate(0x08, 0x3000, 0xee), 13: gate(0x08, 0x3100, 0x8e) });
    m.load(0x3000, asm('mov eax, [esp]; mov ebx, [esp + 4]; mov ecx, [esp + 12]; mov edx, [esp + 16]; mov esi, esp; hlt'));
    m.load(0x1000, asm('int 0x40'));
    m.cpu.setSegment(Seg.CS, { selector: 0x1b, base: 0, limit: -1, attr: 0xc0fb });
    for (const s of [Seg.SS, Seg.DS, Seg.ES]) m.cpu.setSegment(s, { selector: 0x23, base: 0, limit: -1, attr: 0xc0f3 });
    m.cpu.regs[4] = 0x7000;
    m.cpu.setEflags(0x202);
    m.cpu.eip = 0x1000;
    expect(m.cpu.cpl).toBe(3);
    expect(m.run()).toBe(ExitReason.HLT);
    expect([m.cpu.regs[0], m.cpu.regs[3], m.cpu.regs[1], m.cpu.regs[2], m.cpu.regs[6]])
      .toEqual([0x1002, 0x1b, 0x7000, 0x23, 0x9000 - 20]);
    expect(m.cpu.cpl).toBe(0);
    expect(m.cpu.getEflags() & 0x200).toBe(0); // interrupt gate cleared IF
  });

  it('INT through a gate with DPL below CPL is #GP(vector*8+2)', () => {
    const m = machine({ cpl: 0 });
    withTss(m);
    idt(m, { 13: gate(0x08, 0x3100, 0x8e), 0x40: gate(0x08, 0x3000, 0x8e) });
    m.load(0x3100, asm('mov eax, [esp]; hlt'));
    m.load(0x1000, asm('int 0x40'));
    m.cpu.setSegment(Seg.CS, { selector: 0x1b, base: 0, limit: -1, attr: 0xc0fb });
    m.cpu.setSegment(Seg.SS, { selector: 0x23, base: 0, limit: -1, attr: 0xc0f3 });
    m.cpu.regs[4] = 0x7000;
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[0]).toBe(0x40 * 8 + 2);
  });

  it('a fault while delivering a fault is #DF; a fault while delivering #DF shuts down', () => {
    const m = machine();
    flatGdt(m);
    idt(m, { 8: gate(0x08, 0x3000, 0x8e), 13: [0, 0] }); // #GP gate not present -> #NP -> #DF
    m.load(0x3000, asm('mov eax, [esp]; hlt'));
    m.load(0x1000, asm('mov esp, 0x7000; mov ds, ax')); // ax = 0x99: beyond the GDT -> #GP
    m.cpu.regs[0] = 0x99;
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[0]).toBe(0); // #DF error code
    idt(m, { 8: [0, 0], 13: [0, 0] });
    m.cpu.eip = 0x1000;
    m.cpu.regs[0] = 0x99;
    m.cpu.halted = false;
    expect(m.run()).toBe(ExitReason.SHUTDOWN);
  });

  it('external interrupts wait for IF and for the instruction after STI', () => {
    const m = machine();
    flatGdt(m);
    idt(m, { 0x30: gate(0x08, 0x3000, 0x8e) });
    m.load(0x3000, asm('inc esi; mov edi, [esp]; iretd'));
    let pending = 1;
    m.cpu.intr = { hasInterrupt: () => pending > 0, acknowledge: () => { pending--; return 0x30; } };
    m.load(0x1000, asm('mov esp, 0x7000; nop; nop; sti; mov ecx, 1; mov edx, 2; hlt', { org: 0x1000 }));
    m.cpu.eip = 0x1000;
    m.cpu.checkInterrupts();
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[6]).toBe(1);
    expect(m.cpu.regs[7]).toBe(0x100d); // returned to the instruction after `mov ecx, 1`
  });

  it('HLT wakes for an interrupt and NMI is blocked until IRET', () => {
    const m = machine();
    flatGdt(m);
    idt(m, { 2: gate(0x08, 0x3000, 0x8e) });
    m.load(0x3000, asm('inc esi; hlt; iretd'));
    m.load(0x1000, asm('mov esp, 0x7000; hlt; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    m.cpu.raiseNmi();
    expect(m.run()).toBe(ExitReason.HLT); // in the NMI handler's HLT
    expect(m.cpu.regs[6]).toBe(1);
    m.cpu.raiseNmi();
    expect(m.run()).toBe(ExitReason.HLT); // blocked: still halted in the handler
    expect(m.cpu.regs[6]).toBe(1);
  });
});

describe('priorities of simultaneous events (SDM table 6-2)', () => {
  /** #DB trap gate at 0x3000, NMI at 0x3100, INTR 0x30 at 0x3200; each logs its vector at 0x6000[esi++]. */
  function setup(dbTail: string): { m: TestMachine; raise: () => void; log: () => number[] } {
    const m = machine();
    flatGdt(m);
    idt(m, { 1: gate(0x08, 0x3000, 0x8f), 2: gate(0x08, 0x3100, 0x8e), 0x30: gate(0x08, 0x3200, 0x8e) });
    m.load(0x3000, asm(`mov dword ptr [0x6000 + esi*4], 1; inc esi; mov ebp, [esp]; ${dbTail}; iretd`));
    m.load(0x3100, asm('mov dword ptr [0x6000 + esi*4], 2; inc esi; mov ebx, [esp]; iretd'));
    m.load(0x3200, asm('mov dword ptr [0x6000 + esi*4], 0x30; inc esi; mov edi, [esp]; iretd'));
    let pending = 0;
    m.cpu.intr = { hasInterrupt: () => pending > 0, acknowledge: () => { pending--; return 0x30; } };
    const raise = (): void => { pending = 1; m.cpu.checkInterrupts(); };
    m.ports.register(0x80, 1, { read: () => 0, write: () => raise() }, 'irq trigger');
    const log = (): number[] => Array.from({ length: m.cpu.regs[6]! }, (_, i) => m.r32(0x6000 + i * 4));
    return { m, raise, log };
  }

  it('a single-step trap is delivered before an INTR that rose during the instruction', () => {
    const { m, log } = setup('and dword ptr [esp + 8], 0xfffffeff');
    const code = asm('mov esp, 0x7000; pushfd; or dword ptr [esp], 0x300; popfd; out 0x80, al; hlt', { org: 0x1000 });
    m.load(0x1000, code);
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    // #DB first (trap after OUT, EIP at the HLT); its trap gate leaves IF set, so the INTR is
    // taken before the #DB handler's first instruction and logs first
    expect(m.cpu.regs[7]).toBe(0x3000);
    expect(m.cpu.regs[5]).toBe(0x1000 + code.length - 1);
    expect(log()).toEqual([0x30, 1]);
  });

  it('NMI before INTR when both are pending', () => {
    const { m, raise, log } = setup('');
    m.load(0x1000, asm('nop; hlt'));
    m.cpu.eip = 0x1000;
    m.cpu.regs[4] = 0x7000;
    m.cpu.setEflags(0x202);
    m.cpu.raiseNmi();
    raise();
    expect(m.run()).toBe(ExitReason.HLT);
    // NMI first: it interrupted the program, not the INTR handler
    expect([m.cpu.regs[3], m.cpu.regs[7]]).toEqual([0x1000, 0x1000]);
    expect(log()).toEqual([2, 0x30]);
  });

  it('INTR before a code-breakpoint fault at the same instruction; RF lets it run after', () => {
    const { m, log } = setup('or dword ptr [esp + 8], 0x10000');
    const code = asm('mov esp, 0x7000; sti; out 0x80, al; mov ecx, 5; hlt', { org: 0x1000 });
    m.load(0x1000, code);
    const target = 0x1000 + code.length - 6; // mov ecx, 5
    m.cpu.dr[0] = target;
    m.cpu.dr[7] = 0x401; // L0, execute, length 1
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(log()).toEqual([0x30, 1]);
    expect([m.cpu.regs[7], m.cpu.regs[5], m.cpu.regs[1]]).toEqual([target, target, 5]);
  });
});

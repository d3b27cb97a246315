/**
 * Segmentation limits, hardware task switches and virtual-8086 mode, at unit scale (the
 * cpu-segmentation, cpu-tasks and cpu-v86 kernels cover them in depth against QEMU).
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { descriptor, flatGdt, gate, machine, writeTable, type TestMachine } from '../../../tests/hw/machine.ts';
import { ExecMode, ExitReason } from './exit.ts';
import { Seg } from './regs.ts';

function pv(m: TestMachine): TestMachine {
  m.cpu.controls.mode = ExecMode.PV; // exceptions exit, so tests can look at them
  return m;
}

describe('segment limits', () => {
  it('an expand-up limit faults one byte past the end, an expand-down one below the limit', () => {
    const m = pv(machine());
    flatGdt(m);
    m.cpu.setSegment(Seg.ES, { selector: 0x10, base: 0x10000, limit: 0xfff, attr: 0x4093 });
    m.load(0x1000, asm('mov eax, es:[0xffc]; mov eax, es:[0xffd]'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.eip]).toEqual([13, 0, 0x1006]);
    // expand-down, B=1: valid offsets are (limit, 0xffffffff]
    m.cpu.setSegment(Seg.ES, { selector: 0x10, base: 0, limit: 0x1fff, attr: 0x4097 });
    m.load(0x2000, asm('mov eax, es:[0x3000]; mov eax, es:[0x1ffe]'));
    m.cpu.eip = 0x2000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.eip]).toEqual([13, 0x2006]);
  });

  it('x87 memory operands are checked whole against the limit, stores against writability', () => {
    const m = pv(machine({ fpu: true }));
    flatGdt(m);
    m.cpu.setSegment(Seg.ES, { selector: 0x10, base: 0x10000, limit: 0xfff, attr: 0x4093 });
    const at = (code: string): number[] => {
      m.load(0x1000, asm(`${code}; hlt`));
      m.cpu.eip = 0x1000;
      m.cpu.halted = false;
      const r = m.run();
      return r === ExitReason.HLT ? [0] : [m.cpu.exit.vector, m.cpu.eip];
    };
    expect(at('fld qword ptr es:[0xff8]')).toEqual([0]);
    expect(at('fld qword ptr es:[0xff9]')).toEqual([13, 0x1000]);
    expect(at('fld tbyte ptr es:[0xff7]')).toEqual([13, 0x1000]);
    expect(at('fnsave es:[0xf94]')).toEqual([0]); // 108 bytes up to 0xfff
    expect(at('fnsave es:[0xf95]')).toEqual([13, 0x1000]);
    expect(at('fnstenv es:[0xfe4]')).toEqual([0]); // 28 bytes
    expect(at('fnstenv es:[0xfe5]')).toEqual([13, 0x1000]);
    m.cpu.setSegment(Seg.ES, { selector: 0x10, base: 0x10000, limit: 0xfff, attr: 0x4091 }); // read-only
    expect(at('fld dword ptr es:[0]')).toEqual([0]);
    expect(at('fst dword ptr es:[0]')).toEqual([13, 0x1000]);
    expect(at('fnstcw es:[0]')).toEqual([13, 0x1000]);
  });

  it('stack accesses outside SS are #SS, a null DS is #GP(0) on use', () => {
    const m = pv(machine());
    flatGdt(m);
    m.cpu.setSegment(Seg.SS, { selector: 0x10, base: 0, limit: 0xfff, attr: 0x4093 });
    m.load(0x1000, asm('mov esp, 0x1002; push eax'));
    m.cpu.eip = 0x1000;
    m.run();
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode]).toEqual([12, 0]);
    m.cpu.setSegment(Seg.SS, { selector: 0x10, base: 0, limit: -1, attr: 0xc093 });
    expect(m.cpu.loadSegment(Seg.DS, 0)).toBeNull();
    m.load(0x2000, asm('mov eax, [0x100]'));
    m.cpu.eip = 0x2000;
    m.run();
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.eip]).toEqual([13, 0, 0x2000]);
  });
});

/** GDT: flat segments (0x08-0x30), TSS A at 0x38 (0x3000), TSS B at 0x40 (0x3100), task gate... */
function withTasks(): TestMachine {
  const m = machine();
  flatGdt(m);
  writeTable(m, 0x800 + 7 * 8, [descriptor(0x3000, 0x67, 0x89, 0), descriptor(0x3100, 0x67, 0x89, 0)]);
  m.cpu.gdtLimit = 9 * 8 - 1;
  // TSS B: start at 0x5000, its own stack, flat ring-0 selectors, EFLAGS 2
  const b = 0x3100;
  m.w32(b + 28, 0);
  m.w32(b + 32, 0x5000);
  m.w32(b + 36, 2);
  m.w32(b + 56, 0x9000);
  for (const [off, sel] of [[72, 0x10], [76, 0x08], [80, 0x10], [84, 0x10], [88, 0x10], [92, 0x10]]) m.w32(b + off!, sel!);
  m.load(0x6000, asm('ltr ax; hlt'));
  m.cpu.regs[0] = 0x38;
  m.cpu.eip = 0x6000;
  expect(m.run()).toBe(ExitReason.HLT);
  m.cpu.halted = false;
  return m;
}

describe('task switches', () => {
  it('CALL to a TSS links back, sets NT and busy; IRET returns and clears busy', () => {
    const m = withTasks();
    m.load(0x5000, asm('mov ecx, 0x77; iretd; jmp $'));
    m.load(0x1000, asm('mov esp, 0x7000; call 0x40:0; mov edx, ecx; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[2]).toBe(0); // task A's own ECX
    expect(m.r32(0x3100 + 44)).toBe(0x77); // task B's ECX saved in its TSS by the IRET switch
    expect(m.cpu.segSel[Seg.TR]).toBe(0x38);
    expect(m.r32(0x3100) & 0xffff).toBe(0x38); // back link
    expect((m.r32(0x800 + 8 * 8 + 4) >> 8) & 0xf).toBe(0x9); // B no longer busy
    expect((m.r32(0x800 + 7 * 8 + 4) >> 8) & 0xf).toBe(0xb); // A busy
    expect(m.cpu.cr0 & 8).toBe(8); // TS set by the switches
  });

  it('an exception through a task gate runs in the handler task with the error code pushed', () => {
    const m = withTasks();
    m.cpu.idtBase = 0x400;
    m.cpu.idtLimit = 0xff;
    writeTable(m, 0x400 + 13 * 8, [gate(0x40, 0, 0x85)]);
    m.load(0x5000, asm('pop ebx; hlt'));
    m.load(0x1000, asm('mov esp, 0x7000; mov ax, 0x99; mov ds, ax'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.segSel[Seg.TR]).toBe(0x40);
    expect(m.cpu.regs[3]).toBe(0x98); // #GP(0x99 & ~3)
    expect(m.r32(0x3000 + 32)).toBe(0x1009); // A saved EIP = the faulting mov
  });
});

describe('virtual-8086 mode', () => {
  it('IRET with VM enters VM86; INT n with IOPL < 3 is #GP(0) to ring 0 and saves the segments', () => {
    const m = machine();
    flatGdt(m);
    writeTable(m, 0x800 + 7 * 8, [descriptor(0x3000, 0x2067, 0x89, 0)]);
    m.cpu.gdtLimit = 8 * 8 - 1;
    m.w32(0x3004, 0x9000); // ESP0
    m.w32(0x3008, 0x10); // SS0
    m.w32(0x3000 + 102, 0x2000 << 16); // no I/O bitmap inside the limit... (base beyond: deny)
    m.load(0x6000, asm('ltr ax; hlt'));
    m.cpu.regs[0] = 0x38;
    m.cpu.eip = 0x6000;
    m.run();
    m.cpu.halted = false;
    m.cpu.idtBase = 0x400;
    m.cpu.idtLimit = 0xff;
    writeTable(m, 0x400 + 13 * 8, [gate(0x08, 0x4000, 0x8e)]);
    m.load(0x4000, asm('mov eax, [esp]; mov ebx, [esp + 4]; mov ecx, [esp + 12]; mov edx, [esp + 16]; hlt'));
    // VM86 code at 0x1000:0x0100 (linear 0x10100): mov ax, 0x1234; int 0x21
    m.load(0x10100, asm('mov ax, 0x1234; int 0x21', { bits: 16 }));
    // iret frame: EIP CS EFLAGS ESP SS ES DS FS GS
    const frame = [0x100, 0x1000, 0x20002, 0xfffe, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000];
    frame.forEach((v, i) => m.w32(0x7000 + i * 4, v));
    m.load(0x1000, asm('mov esp, 0x7000; iretd'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.cpl).toBe(0);
    const [err, eip, eflags, vesp] = [m.cpu.regs[0], m.cpu.regs[3], m.cpu.regs[1], m.cpu.regs[2]];
    expect(err).toBe(0);
    expect(eip).toBe(0x103); // at the INT (mov ax, imm16 is 3 bytes)
    expect(eflags! & 0x20000).toBe(0x20000); // VM in the pushed EFLAGS
    expect(vesp).toBe(0xfffe);
    expect(m.r32(0x9000 - 4)).toBe(0x6000); // GS pushed first
    expect([m.cpu.segSel[Seg.DS], m.cpu.segSel[Seg.ES]]).toEqual([0, 0]); // nulled on entry
  });
});

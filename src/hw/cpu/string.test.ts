/**
 * String instructions: REP forms, direction flag, REPE/REPNE termination, 16-bit
 * addressing, overlap semantics, restart after a fault part-way, and long REPs yielding.
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { machine } from '../../../tests/hw/machine.ts';
import { ExecMode, ExitReason } from './exit.ts';

describe('string instructions', () => {
  it('rep movsd forward and rep movsb backward', () => {
    const m = machine();
    for (let i = 0; i < 64; i++) m.w32(0x10000 + i * 4, i * 0x01010101);
    m.load(0x1000, asm(`
      mov esi, 0x10000; mov edi, 0x20000; mov ecx, 64; cld; rep movsd
      mov esi, 0x100ff; mov edi, 0x300ff; mov ecx, 256; std; rep movsb; cld; hlt`));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    for (let i = 0; i < 64; i++) expect(m.r32(0x20000 + i * 4)).toBe((i * 0x01010101) >>> 0);
    for (let i = 0; i < 64; i++) expect(m.r32(0x30000 + i * 4)).toBe((i * 0x01010101) >>> 0);
    expect([m.cpu.regs[1], m.cpu.regs[6], m.cpu.regs[7]]).toEqual([0, 0xffff, 0x2ffff]);
  });

  it('overlapping rep movsb replicates like the byte-by-byte hardware loop', () => {
    const m = machine();
    m.load(0x10000, [1, 2, 3]);
    m.load(0x1000, asm('mov esi, 0x10000; mov edi, 0x10003; mov ecx, 9; rep movsb; hlt'));
    m.cpu.eip = 0x1000;
    m.run();
    expect([...m.mem.bytesView(0x10000 as never, 12)]).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('repe cmpsb stops at the first difference, repne scasb at the first match', () => {
    const m = machine();
    m.load(0x10000, [...'abcdefgh'].map((c) => c.charCodeAt(0)));
    m.load(0x10100, [...'abcdXfgh'].map((c) => c.charCodeAt(0)));
    m.load(0x1000, asm(`
      mov esi, 0x10000; mov edi, 0x10100; mov ecx, 8; repe cmpsb; mov ebx, ecx
      mov edi, 0x10000; mov al, 'f'; mov ecx, 8; repne scasb; hlt`));
    m.cpu.eip = 0x1000;
    m.run();
    expect(m.cpu.regs[3]).toBe(3); // stopped after comparing 'e' vs 'X'
    expect([m.cpu.regs[1], m.cpu.regs[7]]).toEqual([2, 0x10006]);
  });

  it('16-bit addressing uses SI/DI/CX and wraps at 64 KiB', () => {
    const m = machine();
    m.load(0x1000, asm('mov edi, 0x1234fffe; mov ecx, 0x77770004; mov al, 0xab; addr16 rep stosb; hlt'));
    m.cpu.eip = 0x1000;
    m.run();
    expect(m.mem.read8(0xfffe as never)).toBe(0xab);
    expect(m.mem.read8(0x0001 as never)).toBe(0xab);
    expect([m.cpu.regs[7] >>> 0, m.cpu.regs[1] >>> 0]).toEqual([0x12340002, 0x77770000]);
  });

  it('a fault part-way leaves the registers at the completed iterations and restarts', () => {
    const m = machine();
    m.cpu.controls.mode = ExecMode.PV;
    for (let i = 0; i < 1024; i++) m.w32(0x100000 + i * 4, (i << 12) | 3);
    m.w32(0x100000 + 0x21 * 4, 0); // page 0x21000 not present
    m.w32(0x101000, 0x100000 | 3);
    m.cpu.setCr3(0x101000);
    m.cpu.setCr0(m.cpu.cr0 | 0x80000000);
    m.load(0x1000, asm('mov edi, 0x20ff0; mov ecx, 32; mov al, 7; rep stosb; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.cr2, m.cpu.regs[7], m.cpu.regs[1]]).toEqual([14, 0x21000, 0x21000, 16]);
    m.w32(0x100000 + 0x21 * 4, 0x21000 | 3);
    m.cpu.invlpg(0x21000);
    expect(m.run()).toBe(ExitReason.HLT);
    expect([m.cpu.regs[7], m.cpu.regs[1]]).toEqual([0x21010, 0]);
    expect(m.mem.read8(0x2100f as never)).toBe(7);
  });

  it('a huge REP runs in chunks, letting the run loop see the budget', () => {
    const m = machine({ memMiB: 8 });
    m.load(0x1000, asm('mov edi, 0x100000; mov ecx, 0x300000; mov al, 1; rep stosb; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run(5)).toBe(ExitReason.BUDGET);
    expect(m.cpu.eip).toBe(0x100c); // still at the REP, not retired
    expect(m.run(1_000_000)).toBe(ExitReason.HLT);
    expect(m.mem.read8(0x3fffff as never)).toBe(1);
    expect(m.cpu.instructions).toBe(5);
  });
});

/**
 * Cpu basics: running code, budgets and kicks, reset state, snapshots, the host state API,
 * and hostile input (invalid opcodes, wild jumps, instructions beyond 15 bytes).
 */
import { describe, expect, it } from 'vitest';
import { defaultCpuidModel, CPUID_PAT } from './cpuid.ts';
import { asm } from '../../../tests/hw/asm.ts';
import { machine } from '../../../tests/hw/machine.ts';
import { ExitReason } from './exit.ts';
import { Seg } from './regs.ts';

describe('running code', () => {
  it('runs a loop to HLT and counts retired instructions', () => {
    const m = machine();
    m.load(0x1000, asm('mov ecx, 1000; xor eax, eax; l: add eax, ecx; dec ecx; jnz l; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[0]).toBe(500500);
    expect(m.cpu.instructions).toBe(2 + 3 * 1000 + 1);
    expect(m.cpu.eip).toBe(0x1000 + 13);
  });

  it('stops at the budget and continues where it stopped', () => {
    const m = machine();
    m.load(0x1000, asm('l: inc eax; jmp l'));
    m.cpu.eip = 0x1000;
    expect(m.run(1000)).toBe(ExitReason.BUDGET);
    const n = m.cpu.instructions;
    expect(n).toBeGreaterThanOrEqual(1000);
    expect(n).toBeLessThan(1000 + 40);
    expect(m.cpu.regs[0]).toBe(Math.ceil(n / 2));
    m.run(1000);
    expect(m.cpu.instructions).toBeGreaterThanOrEqual(2000);
  });

  it('requestExit() makes run() return KICK', () => {
    const m = machine();
    m.load(0x1000, asm('l: jmp l'));
    m.cpu.eip = 0x1000;
    m.cpu.requestExit();
    expect(m.run(1_000_000)).toBe(ExitReason.KICK);
    expect(m.cpu.instructions).toBe(0);
  });

  it('resets to real mode at F000:FFF0 with the documented state', () => {
    const m = machine();
    m.cpu.reset();
    const c = m.cpu;
    expect(c.eip).toBe(0xfff0);
    expect(c.getSegment(Seg.CS)).toEqual({ selector: 0xf000, base: 0xffff0000, limit: 0xffff, attr: 0x93 });
    expect(c.cr0 >>> 0).toBe(0x60000010);
    expect(c.getEflags()).toBe(2);
    expect(c.regs[2]).toBe(0x683);
    expect(c.cpl).toBe(0);
  });

  it('fetching from unbacked memory at reset decodes open-bus bytes and faults, never throws', () => {
    const m = machine();
    m.cpu.reset(); // executes 0xFF bytes at 0xFFFFFFF0: #UD, IVT entry 0 -> 0000:0000 (zeros) -> ...
    const r = m.run(100_000);
    expect([ExitReason.BUDGET, ExitReason.SHUTDOWN, ExitReason.HLT]).toContain(r);
  });
});

describe('hostile code', () => {
  it('an invalid opcode raises #UD through the IDT (shutdown without one)', () => {
    const m = machine();
    m.load(0x1000, [0x0f, 0x0b]); // ud2
    m.cpu.eip = 0x1000;
    m.cpu.idtLimit = 0; // no IDT: #UD -> #GP -> #DF -> triple fault
    expect(m.run()).toBe(ExitReason.SHUTDOWN);
    expect(m.cpu.shutdown).toBe(true);
    expect(m.run()).toBe(ExitReason.SHUTDOWN); // stays shut down
  });

  it('an instruction longer than 15 bytes is #GP(0)', () => {
    const m = machine();
    m.cpu.controls.mode = 1; // PV: exceptions exit, so we can look at them
    m.load(0x1000, [...new Array(15).fill(0x66), 0x90]);
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode]).toEqual([13, 0]);
    expect(m.cpu.eip).toBe(0x1000);
  });

  it('a jump past the CS limit is #GP(0) at the jump', () => {
    const m = machine();
    m.cpu.controls.mode = 1;
    m.cpu.setSegment(Seg.CS, { selector: 0x08, base: 0, limit: 0x1fff, attr: 0xc09b });
    m.load(0x1000, asm('jmp 0x5000', { org: 0x1000 }));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.eip]).toEqual([13, 0, 0x1000]);
  });

  it('LOCK on a register destination is #UD', () => {
    const m = machine();
    m.cpu.controls.mode = 1;
    m.load(0x1000, [0xf0, 0x01, 0xd8]); // lock add eax, ebx
    m.cpu.eip = 0x1000;
    m.run();
    expect(m.cpu.exit.vector).toBe(6);
  });

  it('divide by zero and quotient overflow are #DE with EIP at the divide', () => {
    const m = machine();
    m.cpu.controls.mode = 1;
    m.load(0x1000, asm('xor ebx, ebx; div ebx'));
    m.cpu.eip = 0x1000;
    m.run();
    expect([m.cpu.exit.vector, m.cpu.eip]).toEqual([0, 0x1002]);
    m.load(0x2000, asm('mov edx, 5; mov eax, 0; mov ebx, 2; div ebx'));
    m.cpu.eip = 0x2000;
    m.run();
    expect(m.cpu.exit.vector).toBe(0);
  });
});

describe('host state API', () => {
  it('snapshots round-trip into a fresh CPU', () => {
    const a = machine({ fpu: true });
    a.load(0x1000, asm('mov eax, 0x12345678; mov ebx, 3; add ebx, eax; fld1; hlt'));
    a.cpu.eip = 0x1000;
    a.run();
    const s = a.cpu.saveState();
    const json = JSON.parse(JSON.stringify(s));
    const b = machine({ fpu: true });
    b.cpu.loadState(json);
    expect(b.cpu.saveState()).toEqual(s);
    expect(b.cpu.regs[3]).toBe(0x1234567b);
  });

  it('RDTSC keeps increasing across a snapshot (the last TSC read is state)', () => {
    const a = machine({ cpu: { tscHz: 1e6 } }); // 1 cycle per 1000 instructions: reads in a block are forced apart
    a.load(0x1000, asm('rdtsc; rdtsc; rdtsc; mov esi, eax; hlt'));
    a.cpu.eip = 0x1000;
    a.run();
    const b = machine({ cpu: { tscHz: 1e6 } });
    b.cpu.loadState(JSON.parse(JSON.stringify(a.cpu.saveState())));
    b.load(0x2000, asm('rdtsc; hlt'));
    b.cpu.eip = 0x2000;
    b.cpu.halted = false;
    b.run();
    expect(b.cpu.regs[0]! - b.cpu.regs[6]!).toBe(1);
  });

  it('rejects a snapshot of another kind', () => {
    const m = machine();
    expect(() => m.cpu.loadState({ ...m.cpu.saveState(), version: 2 } as never)).toThrow(/version/);
  });

  it('loadSegment checks like MOV and reports the fault without changing state', () => {
    const m = machine();
    m.cpu.gdtBase = 0x500;
    m.cpu.gdtLimit = 0x17;
    m.w32(0x508, 0x0000ffff); m.w32(0x50c, 0x00cf9300); // 0x08: ring-0 data
    m.w32(0x510, 0x0000ffff); m.w32(0x514, 0x00cf1300); // 0x10: not present
    expect(m.cpu.loadSegment(Seg.DS, 0x08)).toBeNull();
    expect(m.cpu.getSegment(Seg.DS).attr & 0xff).toBe(0x93);
    expect(m.cpu.loadSegment(Seg.ES, 0x10)).toEqual({ vector: 11, errorCode: 0x10 });
    expect(m.cpu.loadSegment(Seg.ES, 0x18)).toEqual({ vector: 13, errorCode: 0x18 });
    expect(m.cpu.loadSegment(Seg.SS, 0)).toEqual({ vector: 13, errorCode: 0 });
  });

  it('CR writes reject invalid values as MOV CR would', () => {
    const m = machine();
    expect(m.cpu.setCr0(0x80000000)).toBe(false); // PG without PE
    expect(m.cpu.setCr4(0x800)).toBe(false); // UMIP: not a P6 bit
    expect(m.cpu.setCr4(0x10)).toBe(true);
  });

  it('the CPUID model is configurable: identity, feature bits (which gate their MSRs), extra leaves', () => {
    const edx1 = defaultCpuidModel().edx1 & ~CPUID_PAT;
    const m = machine({ cpu: { cpuid: { family: 6, model: 11, stepping: 1, edx1, extra: new Map([[0x40000000, [0x40000001, 1, 2, 3] as const]]) } } });
    m.load(0x1000, asm('mov eax, 1; cpuid; mov esi, eax; mov edi, edx; mov eax, 0x40000000; cpuid; hlt'));
    m.cpu.eip = 0x1000;
    m.run();
    expect([m.cpu.regs[6]! & 0xfff, m.cpu.regs[7]! & CPUID_PAT, m.cpu.regs[0], m.cpu.regs[3]]).toEqual([0x6b1, 0, 0x40000001, 1]);
    expect(m.cpu.readMsr(0x277).ok).toBe(false); // IA32_PAT without CPUID.PAT
    expect(machine().cpu.readMsr(0x277).ok).toBe(true);
  });

  it('MSRs: implemented ones read back, unknown ones fail', () => {
    const m = machine();
    expect(m.cpu.writeMsr(0x175, 0x1234, 0)).toBe(true);
    expect(m.cpu.readMsr(0x175)).toEqual({ ok: true, lo: 0x1234, hi: 0 });
    expect(m.cpu.readMsr(0x12345)).toEqual({ ok: false });
    expect(m.cpu.writeMsr(0xc0000080, 1, 0)).toBe(false); // only NXE is writable
  });

  it('readLinear/writeLinear copy through paging and keep decoded code coherent', () => {
    const m = machine();
    m.load(0x3000, asm('mov eax, 1; hlt'));
    m.cpu.eip = 0x3000;
    m.run();
    expect(m.cpu.regs[0]).toBe(1);
    expect(m.cpu.writeLinear(0x3001, new Uint8Array([2]), false)).toBe(true);
    m.cpu.eip = 0x3000;
    m.cpu.halted = false;
    m.run();
    expect(m.cpu.regs[0]).toBe(2);
    const out = new Uint8Array(3);
    expect(m.cpu.readLinear(0x3000, out, false)).toBe(true);
    expect([...out]).toEqual([0xb8, 2, 0]);
  });
});

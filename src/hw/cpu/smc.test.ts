/**
 * Self-modifying and cross-modifying code: decoded blocks must never outlive the bytes they
 * were decoded from (CPU-PERF rule 3), whoever writes them.
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { machine } from '../../../tests/hw/machine.ts';
import { maddr } from '../memory/addr.ts';
import { ExitReason } from './exit.ts';

describe('self-modifying code', () => {
  it('a store into the running block takes effect at the next instruction', () => {
    const m = machine();
    // patch the immediate of the following `mov eax, 1` to 2, in the same block
    m.load(0x1000, asm('mov byte ptr [imm], 2; mov eax, 1; imm = . - 4; hlt', { org: 0x1000 }));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[0]).toBe(2);
  });

  it('a rep stos over the code after it is seen', () => {
    const m = machine();
    // overwrite the `mov eax, 5` with NOPs
    m.load(0x1000, asm('mov edi, offset target; mov ecx, 5; mov al, 0x90; rep stosb; target: mov eax, 5; hlt', { org: 0x1000 }));
    m.cpu.eip = 0x1000;
    m.cpu.regs[0] = 0x33;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[0] & 0xff).toBe(0x90);
  });

  it('code patched in a loop through a second mapping (paging aliases) is re-decoded', () => {
    const m = machine();
    // linear 0x400000 and 0x1000 map the same frame (0x1000): patch through the alias
    for (let i = 0; i < 1024; i++) m.w32(0x100000 + i * 4, (i << 12) | 3);
    m.w32(0x101000, 0x100000 | 3);
    m.w32(0x102000, 0x1000 | 3); // second table: 0x400000 -> frame 1
    m.w32(0x101004, 0x102000 | 3);
    m.cpu.setCr3(0x101000);
    m.cpu.setCr0(m.cpu.cr0 | 0x80000000);
    const code = asm(`
      mov ecx, 3
      again: call f
      add ebx, eax
      inc byte ptr [0x400000 + (imm - 0x1000)]
      dec ecx
      jnz again
      hlt
      f: mov eax, 10
      imm = . - 4
      ret`, { org: 0x1000 });
    m.load(0x1000, code);
    m.cpu.regs[4] = 0x8000;
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[3]).toBe(10 + 11 + 12);
  });

  it('host writes through MachineMemory invalidate decoded blocks', () => {
    const m = machine();
    m.load(0x2000, asm('mov eax, 1; hlt'));
    m.cpu.eip = 0x2000;
    m.run();
    expect(m.cpu.regs[0]).toBe(1);
    m.mem.write8(maddr(0x2001), 9);
    m.cpu.eip = 0x2000;
    m.cpu.halted = false;
    m.run();
    expect(m.cpu.regs[0]).toBe(9);
    // a write through the raw view needs notifyWritten
    m.mem.u8[0x2001] = 7;
    m.mem.notifyWritten(0x2001, 1);
    m.cpu.eip = 0x2000;
    m.cpu.halted = false;
    m.run();
    expect(m.cpu.regs[0]).toBe(7);
  });

  it('data writes next to code (other 128-byte lines) do not drop the code', () => {
    const m = machine();
    m.load(0x3000, asm('l: mov dword ptr [0x3800], eax; inc eax; cmp eax, 1000; jne l; hlt', { org: 0x3000 }));
    m.cpu.eip = 0x3000;
    const before = m.cpu.cache.decoded;
    m.run();
    expect(m.cpu.regs[0]).toBe(1000);
    expect(m.cpu.cache.decoded - before).toBeLessThanOrEqual(3);
    expect(m.r32(0x3800)).toBe(999);
  });

  it('an instruction straddling two pages is decoded from both, and faults on the second', () => {
    const m = machine();
    m.load(0x1ffe, asm('mov eax, 0x11223344; hlt')); // 5 bytes: 2 on the first page, 3 on the next
    m.cpu.eip = 0x1ffe;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[0]).toBe(0x11223344);
  });
});

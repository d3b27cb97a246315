/**
 * Debug traps: data and I/O breakpoints (DR0-DR3, DR7 R/W 01/11/10), single-stepping REP
 * string instructions one iteration at a time, and the TSS T bit.
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { descriptor, flatGdt, gate, machine, writeTable, type TestMachine } from '../../../tests/hw/machine.ts';
import { ExitReason } from './exit.ts';

const LOG = 0x6000;

/** A #DB handler that logs (EIP, DR6) pairs at LOG + 0x100 (count at LOG) and clears DR6. */
function withDbLog(m: TestMachine): void {
  flatGdt(m);
  writeTable(m, 0x400 + 8, [gate(0x08, 0x3000, 0x8e)]);
  m.cpu.idtBase = 0x400;
  m.cpu.idtLimit = 0x7ff;
  m.load(0x3000, asm(`push eax; push edx
    mov eax, [${LOG}]; mov edx, [esp + 8]; mov [${LOG + 0x100} + eax * 8], edx
    mov edx, dr6; mov [${LOG + 0x104} + eax * 8], edx
    xor edx, edx; mov dr6, edx; inc dword ptr [${LOG}]
    pop edx; pop eax; iretd`, { org: 0x3000 }));
}

function hits(m: TestMachine): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < m.r32(LOG); i++) out.push([m.r32(LOG + 0x100 + i * 8), m.r32(LOG + 0x104 + i * 8) & 0xe00f]);
  return out;
}

/** DR7 bits enabling DRn locally with R/W `rw` and LEN `len` (0: 1 byte, 1: 2, 3: 4). */
function dr7(n: number, rw: number, len: number): number {
  return ((1 << (n * 2)) | (rw << (16 + n * 4)) | (len << (18 + n * 4))) >>> 0;
}

function start(m: TestMachine, org: number, code: string): void {
  m.load(org, asm(`mov esp, 0x7000\n${code}`, { org }));
  m.cpu.eip = org;
}

describe('data breakpoints', () => {
  it('a write overlapping a 4-byte watch traps after the instruction; reads and writes outside do not', () => {
    const m = machine();
    withDbLog(m);
    start(m, 0x1000, `mov eax, 0x8000; mov dr0, eax; mov eax, ${dr7(0, 1, 3)}; mov dr7, eax
      mov eax, [0x8000]
      mov [0x8002], ax
      nop
      mov byte ptr [0x8004], 1
      xor eax, eax; mov dr7, eax; hlt`);
    expect(m.run()).toBe(ExitReason.HLT);
    const h = hits(m);
    expect(h.length).toBe(1);
    expect(h[0]![1]).toBe(0x1); // B0
    // the trap reports EIP after `mov [0x8002], ax` (66 a3 02 80 00 00: 6 bytes)
    const code = asm(`mov esp, 0x7000\nmov eax, 0x8000; mov dr0, eax; mov eax, ${dr7(0, 1, 3)}; mov dr7, eax
      mov eax, [0x8000]
      mov [0x8002], ax`, { org: 0x1000 });
    expect(h[0]![0]).toBe(0x1000 + code.length);
    expect(m.r32(0x8004)).toBe(1);
  });

  it('R/W 11 traps on a read; a read-modify-write hits once', () => {
    const m = machine();
    withDbLog(m);
    start(m, 0x1000, `mov eax, 0x8010; mov dr1, eax; mov eax, ${dr7(1, 3, 0)}; mov dr7, eax
      mov al, [0x8010]
      add dword ptr [0x800e], 1
      mov al, [0x8011]
      xor eax, eax; mov dr7, eax; hlt`);
    expect(m.run()).toBe(ExitReason.HLT);
    const h = hits(m);
    expect(h.map(([, dr6]) => dr6)).toEqual([0x2, 0x2]);
  });

  it('REP MOVSB traps after the iteration that hits, EIP at the instruction, and then goes on', () => {
    const m = machine();
    withDbLog(m);
    for (let i = 0; i < 32; i++) m.load(0x9000 + i, [i + 1]);
    start(m, 0x1000, `mov eax, 0x8000; mov dr0, eax; mov eax, ${dr7(0, 1, 0)}; mov dr7, eax
      mov esi, 0x9000; mov edi, 0x7ff8; mov ecx, 32; cld
      rep movsb
      mov ebx, ecx
      xor eax, eax; mov dr7, eax; hlt`);
    const pre = asm(`mov esp, 0x7000\nmov eax, 0x8000; mov dr0, eax; mov eax, ${dr7(0, 1, 0)}; mov dr7, eax
      mov esi, 0x9000; mov edi, 0x7ff8; mov ecx, 32; cld`, { org: 0x1000 });
    // the 9th byte goes to 0x8000: the trap comes with 23 iterations left
    expect(m.run()).toBe(ExitReason.HLT);
    const h = hits(m);
    expect(h).toEqual([[0x1000 + pre.length, 0x1]]);
    expect(m.cpu.regs[3]).toBe(0);
    expect(m.r32(0x8000)).toBe(0x0c0b0a09);
    expect(m.r32(0x8014)).toBe(0x201f1e1d);
  });

  it('an I/O breakpoint needs CR4.DE and traps after OUT', () => {
    const m = machine();
    withDbLog(m);
    start(m, 0x1000, `mov eax, 0x80; mov dr2, eax; mov eax, ${dr7(2, 2, 0)}; mov dr7, eax
      out 0x80, al
      mov eax, cr4; or eax, 8; mov cr4, eax
      out 0x80, al
      in al, 0x81
      xor eax, eax; mov dr7, eax; hlt`);
    expect(m.run()).toBe(ExitReason.HLT);
    expect(hits(m).map(([, dr6]) => dr6)).toEqual([0x4]);
  });
});

describe('host-armed breakpoints', () => {
  it('debug registers written by the host take effect at the next run()', () => {
    const m = machine();
    withDbLog(m);
    start(m, 0x1000, 'nop; mov dword ptr [0x8020], 5; nop; hlt');
    m.cpu.dr[0] = 0x8020;
    m.cpu.dr[7] = dr7(0, 1, 3) | 0x400;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(hits(m).map(([, dr6]) => dr6)).toEqual([0x1]);
  });
});

describe('budget in step mode', () => {
  it('armed breakpoints that never hit, or TF with a handler, still end run() at the budget', () => {
    const m = machine();
    withDbLog(m);
    start(m, 0x1000, 'l: inc eax; jmp l');
    m.cpu.dr[0] = 0x9000;
    m.cpu.dr[7] = dr7(0, 1, 3) | 0x400;
    expect(m.run(1000)).toBe(ExitReason.BUDGET);
    expect(m.run(1000)).toBe(ExitReason.BUDGET);
    m.cpu.dr[7] = 0x400;
    m.cpu.setEflags(m.cpu.getEflags() | 0x100);
    expect(m.run(1000)).toBe(ExitReason.BUDGET);
    expect(m.r32(LOG)).toBeGreaterThan(50);
  });
});

describe('single-step', () => {
  it('TF traps after every REP iteration with EIP at the instruction until it is done', () => {
    const m = machine();
    withDbLog(m);
    const head = `mov edi, 0x8000; mov ecx, 3; cld
      pushfd; or dword ptr [esp], 0x100; popfd`;
    start(m, 0x1000, `${head}
      rep stosb
      pushfd; and dword ptr [esp], 0xfffffeff; popfd
      hlt`);
    expect(m.run()).toBe(ExitReason.HLT);
    const rep = 0x1000 + asm(`mov esp, 0x7000\n${head}`, { org: 0x1000 }).length;
    const h = hits(m);
    expect(h.slice(0, 3)).toEqual([[rep, 0x4000], [rep, 0x4000], [rep + 2, 0x4000]]);
    expect(h.length).toBe(6); // then PUSHFD, AND and the POPFD that clears TF
  });
});

describe('TSS T bit', () => {
  it('a task switch into a TSS with T set traps (DR6.BT) before the first instruction', () => {
    const m = machine();
    withDbLog(m);
    writeTable(m, 0x800 + 7 * 8, [descriptor(0x3400, 0x67, 0x89, 0), descriptor(0x3500, 0x67, 0x89, 0)]);
    m.cpu.gdtLimit = 9 * 8 - 1;
    const b = 0x3500;
    m.w32(b + 32, 0x5000);
    m.w32(b + 36, 2);
    m.w32(b + 56, 0x9000);
    for (const [off, sel] of [[72, 0x10], [76, 0x08], [80, 0x10], [84, 0x10], [88, 0x10], [92, 0x10]]) m.w32(b + off!, sel!);
    m.w32(b + 100, 1); // T
    m.load(0x5000, asm('mov ecx, 0x77; hlt'));
    start(m, 0x1000, 'mov ax, 0x38; ltr ax; call 0x40:0');
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[1]).toBe(0x77);
    expect(hits(m)).toEqual([[0x5000, 0x8000]]);
  });
});

/**
 * The JIT tier behaves exactly like the interpreter: same results, same EIP and retired
 * count at faults, self-modifying code, budgets and interrupts stop compiled loops, big
 * pages split into chunks, and compiled code is really used when the frame is hot.
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../../tests/hw/asm.ts';
import { machine, type TestMachine } from '../../../../tests/hw/machine.ts';
import { ExecMode, ExitReason } from '../exit.ts';

function both(src: string, setup?: (m: TestMachine) => void): [TestMachine, TestMachine] {
  const out: TestMachine[] = [];
  for (const jit of [false, true]) {
    const m = machine({ cpu: { jit } });
    if (jit) m.cpu.jitThreshold = 0;
    m.load(0x1000, asm(src, { org: 0x1000 }));
    m.cpu.regs[4] = 0x8000;
    setup?.(m);
    m.cpu.eip = 0x1000;
    out.push(m);
  }
  return out as [TestMachine, TestMachine];
}

describe('JIT', () => {
  it('compiles a hot frame and gives the interpreter\'s results', () => {
    const src = `
      mov ecx, 20000; xor eax, eax; xor edx, edx
      l: mov ebx, ecx; and ebx, 7; add eax, [0x2000 + ebx*4]; mov [0x2100 + ebx*4], eax
      rol eax, 3; imul edx, eax, 7; cmp eax, edx; setl bl; movzx ebx, bl; add edx, ebx
      dec ecx; jnz l; hlt`;
    const [i, j] = both(src, (m) => { for (let k = 0; k < 8; k++) m.w32(0x2000 + k * 4, k * 0x1234567); });
    j.cpu.jitThreshold = 1000;
    expect(i.run()).toBe(ExitReason.HLT);
    expect(j.run()).toBe(ExitReason.HLT);
    expect(j.cpu.jitCompiles).toBeGreaterThan(0);
    expect(Array.from(j.cpu.regs)).toEqual(Array.from(i.cpu.regs));
    expect(j.cpu.getEflags()).toBe(i.cpu.getEflags());
    expect(j.cpu.instructions).toBe(i.cpu.instructions);
    for (let k = 0; k < 8; k++) expect(j.r32(0x2100 + k * 4)).toBe(i.r32(0x2100 + k * 4));
  });

  it('a fault inside compiled code reports the faulting instruction and the exact count', () => {
    const src = `
      mov ecx, 0; l: inc ecx; mov eax, [0x10000 + ecx*4]; add edx, eax; cmp ecx, 5000; jne l; hlt`;
    const [i, j] = both(src, (m) => {
      m.cpu.controls.mode = ExecMode.PV;
      for (let k = 0; k < 1024; k++) m.w32(0x100000 + k * 4, (k << 12) | 3);
      m.w32(0x100000 + 0x11 * 4, 0); // 0x11000 not present: hit when ecx = 0x400
      m.w32(0x101000, 0x100000 | 3);
      m.cpu.setCr3(0x101000);
      m.cpu.setCr0(m.cpu.cr0 | 0x80000000);
    });
    for (const m of [i, j]) {
      expect(m.run()).toBe(ExitReason.EXCEPTION);
      expect([m.cpu.exit.vector, m.cpu.exit.cr2, m.cpu.eip, m.cpu.regs[1]]).toEqual([14, 0x11000, 0x1006, 0x400]);
    }
    expect(j.cpu.instructions).toBe(i.cpu.instructions);
  });

  it('flags that later code overwrites are still exact when an instruction in between faults', () => {
    // the ADD's flags are dead for the CMP, but the faulting load exposes them (EFLAGS in
    // the exception state), so compiled code must have stored them
    const src = `
      mov ecx, 0; l: inc ecx; mov eax, ecx; add eax, 0x7ffffffe; mov edx, [0x10000 + ecx*4]; cmp ecx, 5000; jne l; hlt`;
    const [i, j] = both(src, (m) => {
      m.cpu.controls.mode = ExecMode.PV;
      for (let k = 0; k < 1024; k++) m.w32(0x100000 + k * 4, (k << 12) | 3);
      m.w32(0x100000 + 0x11 * 4, 0);
      m.w32(0x101000, 0x100000 | 3);
      m.cpu.setCr3(0x101000);
      m.cpu.setCr0(m.cpu.cr0 | 0x80000000);
    });
    for (const m of [i, j]) expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect(j.cpu.getEflags()).toBe(i.cpu.getEflags());
    expect(i.cpu.getEflags() & 0x800).toBe(0x800); // OF from the ADD
  });

  it('deferred flag stores: every fault point between a producer and its overwriter shows its flags', () => {
    // each producer's flags are dead for the code (the next producer overwrites them), so
    // compiled code keeps them in locals and stores them only on a fault's slow path; the
    // missing page makes a different access fault in each case: a load, a store, a push,
    // a read-modify-write, and a store after a MUL that supersedes the pending flags
    const src = `
      mov ecx, 0; mov esp, 0x30000
      l: inc ecx; mov eax, ecx; xor eax, 0x80000000; mov edx, [0x10000 + ecx*4]
      sub eax, ecx; mov [0x40000 + ecx*4], eax
      test eax, eax; push eax; pop eax
      and eax, 0x7fffffff; add dword ptr [0x50000 + ecx*4], eax
      cmp eax, 3; mul ecx; mov [0x60000 + ecx*4], eax
      add ebx, 1; cmp ecx, 5000; jne l; hlt`;
    for (const [page, what] of [[0x11, 'load'], [0x41, 'store'], [0x2f, 'push'], [0x51, 'rmw'], [0x61, 'after mul']] as const) {
      const [i, j] = both(src, (m) => {
        m.cpu.controls.mode = ExecMode.PV;
        for (let k = 0; k < 1024; k++) m.w32(0x100000 + k * 4, (k << 12) | 3);
        m.w32(0x100000 + page * 4, 0);
        m.w32(0x101000, 0x100000 | 3);
        m.cpu.setCr3(0x101000);
        m.cpu.setCr0(m.cpu.cr0 | 0x80000000);
      });
      // the push faults at once (the stack starts on the missing page's end)
      if (page === 0x2f) for (const m of [i, j]) m.w32(0x100000 + 0x2f * 4, 0);
      for (const m of [i, j]) expect(m.run(), what).toBe(ExitReason.EXCEPTION);
      expect([j.cpu.eip, j.cpu.getEflags(), j.cpu.instructions], what).toEqual([i.cpu.eip, i.cpu.getEflags(), i.cpu.instructions]);
      expect(Array.from(j.cpu.regs), what).toEqual(Array.from(i.cpu.regs));
    }
  });

  it('a REP instruction faulting part-way in compiled code keeps its register progress', () => {
    const src = 'mov edi, 0x20ff0; mov ecx, 32; mov al, 7; rep stosb; hlt';
    const [i, j] = both(src, (m) => {
      m.cpu.controls.mode = ExecMode.PV;
      for (let k = 0; k < 1024; k++) m.w32(0x100000 + k * 4, (k << 12) | 3);
      m.w32(0x100000 + 0x21 * 4, 0);
      m.w32(0x101000, 0x100000 | 3);
      m.cpu.setCr3(0x101000);
      m.cpu.setCr0(m.cpu.cr0 | 0x80000000);
    });
    for (const m of [i, j]) {
      expect(m.run()).toBe(ExitReason.EXCEPTION);
      expect([m.cpu.regs[7], m.cpu.regs[1], m.cpu.eip]).toEqual([0x21000, 16, 0x100c]);
    }
    expect(j.cpu.instructions).toBe(i.cpu.instructions);
  });

  it('self-modifying code inside a compiled region is seen at the next instruction', () => {
    const src = `
      mov ecx, 3000
      l: mov eax, 1
      imm = . - 4
      add ebx, eax
      inc dword ptr [imm]
      dec ecx; jnz l; hlt`;
    const [i, j] = both(src);
    i.run();
    j.run();
    expect(i.cpu.regs[3]).toBe((3000 * 3001) / 2);
    expect(j.cpu.regs[3]).toBe(i.cpu.regs[3]);
  });

  it('stops a compiled loop at the budget and continues exactly', () => {
    const [, j] = both('l: inc eax; jmp l');
    expect(j.run(10_000)).toBe(ExitReason.BUDGET);
    const n = j.cpu.instructions;
    expect(n).toBeGreaterThanOrEqual(10_000);
    expect(n).toBeLessThan(10_100);
    expect(j.cpu.regs[0]).toBe(Math.ceil(n / 2));
    j.run(10_000);
    expect(j.cpu.regs[0]).toBe(Math.ceil(j.cpu.instructions / 2));
  });

  it('a pending interrupt stops a compiled loop at a block boundary', () => {
    const [, j] = both('sti; l: inc eax; jmp l');
    j.cpu.idtBase = 0x400;
    j.cpu.idtLimit = 0x1ff;
    let asked = false;
    j.cpu.intr = { hasInterrupt: () => asked, acknowledge: () => { asked = false; return 0x20; } };
    // IDT[0x20] -> 0x3000: hlt (selector 0x08 needs a GDT)
    j.w32(0x800 + 8, 0x0000ffff); j.w32(0x800 + 12, 0x00cf9b00);
    j.cpu.gdtBase = 0x800;
    j.cpu.gdtLimit = 15;
    j.w32(0x400 + 0x20 * 8, 0x00083000); j.w32(0x400 + 0x20 * 8 + 4, 0x00008e00);
    j.load(0x3000, asm('hlt'));
    expect(j.run(50_000)).toBe(ExitReason.BUDGET);
    asked = true;
    j.cpu.checkInterrupts();
    expect(j.run(50_000)).toBe(ExitReason.HLT);
    expect(j.cpu.eip).toBe(0x3001);
  });

  it('a page with many blocks is split into chunks that call each other', () => {
    // 120 small functions called in a loop: blocks spread over the whole page
    const fns = Array.from({ length: 120 }, (_, k) => `f${k}: add eax, ${k + 1}; imul eax, eax, 3; xor eax, ecx; ret`).join('\n');
    const calls = Array.from({ length: 120 }, (_, k) => `call f${k}`).join('\n');
    const src = `mov ecx, 200; l: ${calls}\n dec ecx; jnz l; hlt\n${fns}`;
    const [i, j] = both(src);
    j.cpu.jitThreshold = 500;
    i.run(100_000_000);
    j.run(100_000_000);
    expect(j.cpu.regs[0]).toBe(i.cpu.regs[0]);
    expect(j.cpu.instructions).toBe(i.cpu.instructions);
    expect(j.cpu.jitCompiles).toBeGreaterThan(0);
  });

  it('leaves regions when code runs under a different mode (16-bit or non-flat segments)', () => {
    const [i, j] = both('mov ecx, 5000; l: add eax, ecx; dec ecx; jnz l; hlt');
    i.run();
    j.run();
    j.cpu.setSegment(3, { selector: 0x10, base: 0x1000, limit: -1, attr: 0xc093 }); // DS base 0x1000
    expect(j.cpu.flat32).toBe(false);
    j.cpu.eip = 0x1000;
    j.cpu.halted = false;
    j.run();
    expect(j.cpu.regs[0]).toBe(i.cpu.regs[0] * 2);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { BootError, runBare, SerialInputQueue, STATUS_STOPPED } from './run_bare.ts';
import { findMultibootHeader } from './multiboot.ts';

const HELLO = fileURLToPath(new URL('../../../guests/build/bare-hello.elf', import.meta.url));

/** A Multiboot a.out-kludge image: a 32-byte header at 1 MiB, then `code`. */
function kludge(code: Uint8Array): Uint8Array {
  const img = new Uint8Array(32 + code.length);
  const v = new DataView(img.buffer);
  const flags = 0x00010003;
  v.setUint32(0, 0x1badb002, true);
  v.setUint32(4, flags, true);
  v.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
  v.setUint32(12, 0x100000, true);
  v.setUint32(16, 0x100000, true);
  v.setUint32(20, 0, true);
  v.setUint32(24, 0, true);
  v.setUint32(28, 0x100020, true);
  img.set(code, 32);
  return img;
}

describe.skipIf(!existsSync(HELLO))('runBare with the hello kernel', () => {
  it('prints on COM1 and exits through port 0xf4 like QEMU', async () => {
    const r = await runBare({ kernel: HELLO, memoryMiB: 16 });
    expect(r.reason).toBe('exit');
    expect(r.exitValue).toBe(0);
    expect(r.exitStatus).toBe(1);
    expect(r.serial).toContain('hello from a bare-metal tsxen guest');
    expect(r.serial).toContain('64-bit quotient: 380904636');
    expect(r.serial.trim().endsWith('Test result: SUCCESS')).toBe(true);
  });

  it('is deterministic under the virtual clock', async () => {
    const img = new Uint8Array(readFileSync(HELLO));
    const a = await runBare({ kernel: img });
    const b = await runBare({ kernel: img });
    expect(a.instructions).toBe(b.instructions);
    expect(a.serial).toBe(b.serial);
  });
});

describe('runBare with synthetic kernels', () => {
  it('passes the Multiboot handover state', async () => {
    // report EAX (magic) and the info flags through the exit port
    const code = asm(`
      cmp eax, 0x2badb002; jne bad
      mov eax, [ebx]; and eax, 0x4; jz bad
      mov ax, ds; cmp ax, 0x10; jne bad
      mov ds, ax          # the loader's GDT must make this reload legal
      mov al, 42; out 0xf4, al
      bad: mov al, 1; out 0xf4, al`);
    const r = await runBare({ kernel: kludge(code), cmdline: 'x=1' });
    expect([r.reason, r.exitValue, r.exitStatus]).toEqual(['exit', 42, 85]);
  });

  it('stops a guest that never exits at the instruction limit', async () => {
    const r = await runBare({ kernel: kludge(asm('l: jmp l')), maxInstructions: 100_000 });
    expect(r.reason).toBe('limit');
    expect(r.exitStatus).toBe(STATUS_STOPPED);
    expect(r.instructions).toBeGreaterThanOrEqual(100_000);
  });

  it('stops a guest that never exits at the host-time timeout', async () => {
    const r = await runBare({ kernel: kludge(asm('l: jmp l')), timeoutMs: 150 });
    expect([r.reason, r.exitStatus]).toEqual(['timeout', STATUS_STOPPED]);
    expect(r.instructions).toBeGreaterThan(0);
  });

  it('reports a triple fault as a shutdown with status 0 (QEMU -no-reboot)', async () => {
    const r = await runBare({ kernel: kludge(asm('lidt [0]; int3')) }); // IDT limit 0 at 0: nothing deliverable
    expect([r.reason, r.exitStatus]).toEqual(['shutdown', 0]);
  });

  it('reports HLT with interrupts disabled as halted', async () => {
    const r = await runBare({ kernel: kludge(asm('cli; hlt')) });
    expect([r.reason, r.exitStatus]).toEqual(['halted', STATUS_STOPPED]);
  });

  it('a PIT interrupt wakes HLT and time jumps ahead under the virtual clock', async () => {
    const code = asm(`
      mov esp, 0x90000
      mov eax, offset irq0
      mov [idt + 32 * 8], ax; shr eax, 16; mov [idt + 32 * 8 + 6], ax
      mov word ptr [idt + 32 * 8 + 2], 8; mov word ptr [idt + 32 * 8 + 4], 0x8e00
      lidt [idtr]
      mov al, 0x11; out 0x20, al; mov al, 0x20; out 0x21, al; mov al, 4; out 0x21, al; mov al, 1; out 0x21, al
      mov al, 0xfe; out 0x21, al        # only IRQ 0
      mov al, 0x34; out 0x43, al; mov al, 0; out 0x40, al; mov al, 0x10; out 0x40, al  # ~3.4 ms
      sti
      w: hlt; cmp ecx, 3; jb w
      mov al, 7; out 0xf4, al
      irq0: inc ecx; mov al, 0x20; out 0x20, al; iretd
      idtr: .word 0x107; .long idt
      .align 8
      idt: .fill 33, 8, 0`, { org: 0x100020 });
    const r = await runBare({ kernel: kludge(code) });
    expect([r.reason, r.exitValue]).toEqual(['exit', 7]);
    expect(r.instructions).toBeLessThan(10_000); // it slept through the waits
  });

  it('feeds serial input into COM1', async () => {
    // read two bytes (polling LSR.DR), exit with their sum
    const code = asm(`
      w1: mov dx, 0x3fd; in al, dx; test al, 1; jz w1
      mov dx, 0x3f8; in al, dx; mov bl, al
      w2: mov dx, 0x3fd; in al, dx; test al, 1; jz w2
      mov dx, 0x3f8; in al, dx; add al, bl; out 0xf4, al`);
    const input = new SerialInputQueue();
    input.push(new Uint8Array([40, 2]));
    const r = await runBare({ kernel: kludge(code), serialInput: input, maxInstructions: 1_000_000 });
    expect([r.reason, r.exitValue]).toEqual(['exit', 42]);
  });

  it('rejects bad images with a clear BootError', async () => {
    await expect(runBare({ kernel: new Uint8Array(100) })).rejects.toThrow(BootError);
    await expect(runBare({ kernel: new Uint8Array(100) })).rejects.toThrow(/no Multiboot header/);
    const good = kludge(asm('hlt'));
    const wrongSum = good.slice();
    wrongSum[8] ^= 1;
    await expect(runBare({ kernel: wrongSum })).rejects.toThrow(/no Multiboot header/);
    const big = good.slice();
    new DataView(big.buffer).setUint32(24, 0x7fffffff, true); // bss_end far beyond memory
    await expect(runBare({ kernel: big, memoryMiB: 8 })).rejects.toThrow(/does not fit/);
    if (existsSync(HELLO)) {
      const elf = new Uint8Array(readFileSync(HELLO));
      await expect(runBare({ kernel: elf.subarray(0, 200) })).rejects.toThrow(BootError);
    }
    await expect(runBare({ kernel: '/nonexistent/kernel.elf' })).rejects.toThrow(/cannot read kernel/);
  });

  it('refuses Multiboot headers that require unsupported features', () => {
    const img = kludge(asm('hlt'));
    const v = new DataView(img.buffer);
    v.setUint32(4, 0x00010008, true);
    v.setUint32(8, (-(0x1badb002 + 0x00010008)) >>> 0, true);
    expect(() => findMultibootHeader(img)).toThrow(/unsupported/);
  });
});

describe.skipIf(!existsSync(HELLO))('corrupt kernel images', () => {
  it('a seeded mutation of a real ELF either fails to load with a BootError or runs to an end', async () => {
    const seed = Number(process.env.TSXEN_SEED ?? 0x1ee7);
    let s = seed >>> 0 || 1;
    const next = (): number => {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    };
    const elf = new Uint8Array(readFileSync(HELLO));
    const outcomes = new Set<string>();
    for (let n = 0; n < 40; n++) {
      const img = elf.slice(0, n % 5 === 4 ? Math.floor(next() * elf.length) : elf.length); // some truncated
      // headers and program headers live in the first bytes: bias mutations there
      for (let k = 0; k < 1 + Math.floor(next() * 6); k++) {
        const at = Math.floor(next() * Math.min(img.length, next() < 0.7 ? 256 : img.length));
        img[at] = Math.floor(next() * 256);
      }
      try {
        const r = await runBare({ kernel: img, memoryMiB: 8, maxInstructions: 200_000 });
        outcomes.add(r.reason);
      } catch (e) {
        expect(e, `seed ${seed} image ${n}: ${(e as Error).message}`).toBeInstanceOf(BootError);
        outcomes.add('BootError');
      }
    }
    expect(outcomes.has('BootError')).toBe(true);
  });
});

/**
 * The guest toolchain: images built from guests/ with the machine's own gcc are valid
 * 32-bit ELF executables with the expected entry point and a Multiboot header where the
 * Multiboot spec requires it (4-byte aligned, within the first 8 KiB of the file).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Elf32, PT_LOAD } from '../../src/hw/loader/elf.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));

describe('guest images', () => {
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', GUESTS, 'build/bare-hello.elf'], { stdio: 'inherit' });
  });

  it('bare-hello is an i386 ELF executable entered at _start', () => {
    const elf = new Elf32(readFileSync(`${GUESTS}build/bare-hello.elf`));
    const start = elf.symbol('_start');
    expect(start).toBeDefined();
    expect(elf.entry).toBe(start);
    const load = elf.segments.filter((s) => s.type === PT_LOAD);
    expect(load.length).toBeGreaterThan(0);
    // The linker script places the kernel at 1 MiB; the entry lies inside a loaded segment.
    expect(Math.min(...load.map((s) => s.paddr))).toBe(0x100000);
    expect(load.some((s) => elf.entry >= s.vaddr && elf.entry < s.vaddr + s.memSize)).toBe(true);
  });

  it('bare-hello carries a valid Multiboot v1 header in its first 8 KiB', () => {
    const img = readFileSync(`${GUESTS}build/bare-hello.elf`);
    const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
    let found = -1;
    for (let o = 0; o + 12 <= Math.min(8192, img.length); o += 4) {
      if (v.getUint32(o, true) === 0x1badb002) {
        const sum = (v.getUint32(o, true) + v.getUint32(o + 4, true) + v.getUint32(o + 8, true)) >>> 0;
        if (sum === 0) { found = o; break; }
      }
    }
    expect(found).toBeGreaterThanOrEqual(0);
  });
});

/**
 * The decoder: instruction lengths against GNU objdump on real compiler output (every guest
 * image's .text), operand forms of tricky encodings, prefixes and LOCK rules, and the
 * guarantees for hostile bytes (never reads past the limit, never throws).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MachineMemory } from '../memory/machine_memory.ts';
import { CodeCache } from './code_cache.ts';
import { decodeInsn } from './decode.ts';
import { Elf32 } from '../loader/elf.ts';
import { Op, OP_NAMES, M_IS_REG, M_OP16, M_ADDR16, M_REP, M_LOCK } from './ops.ts';

const cache = new CodeCache(new MachineMemory(4096));

function dec(bytes: number[], code32 = true): { len: number; op: string; m: number; disp: number; imm: number; imm2: number } {
  const b = new Uint8Array(bytes);
  const len = decodeInsn(cache, 0, b, 0, b.length, code32);
  return { len, op: OP_NAMES[cache.op[0]!]!, m: cache.m[0]!, disp: cache.disp[0]!, imm: cache.imm[0]!, imm2: cache.imm2[0]! };
}

const BUILD = fileURLToPath(new URL('../../../guests/build/', import.meta.url));

function objdumpLengths(elf: string): Array<[number, number, string]> {
  const out = execFileSync('objdump', ['-d', '-M', 'i386', '--no-show-raw-insn', '-j', '.text', elf], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const rows: Array<[number, number, string]> = [];
  const addrs: Array<[number, string]> = [];
  for (const line of out.split('\n')) {
    const mt = /^\s+([0-9a-f]+):\s+(.*)$/.exec(line);
    if (mt) addrs.push([parseInt(mt[1]!, 16), mt[2]!.trim()]);
  }
  for (let i = 0; i + 1 < addrs.length; i++) rows.push([addrs[i]![0], addrs[i + 1]![0] - addrs[i]![0], addrs[i]![1]]);
  return rows;
}

const haveObjdump = (() => {
  try {
    execFileSync('objdump', ['--version'], { stdio: 'ignore' });
    return existsSync(BUILD);
  } catch {
    return false;
  }
})();

describe.skipIf(!haveObjdump)('lengths agree with objdump on compiled guest code', () => {
  it('every instruction of every guest image', () => {
    const elfs = readdirSync(BUILD).filter((f) => f.endsWith('.elf')).map((f) => join(BUILD, f));
    let checked = 0;
    const bad: string[] = [];
    for (const path of elfs) {
      const elf = new Elf32(new Uint8Array(readFileSync(path)));
      const text = elf.sections.find((s) => s.name === '.text');
      if (!text) continue;
      const bytes = elf.image.subarray(text.offset, text.offset + text.size);
      let skipNext = false;
      for (const [addr, len, asmText] of objdumpLengths(path)) {
        const o = addr - text.addr;
        // objdump shows a prefix alone where 16-bit code (.code16 islands) confuses it
        const barePrefix = /^(data16|addr16|data32|addr32|lock|repn?[ez]?|[c-gs]s)$/.test(asmText);
        const skip = skipNext || barePrefix;
        skipNext = barePrefix;
        if (skip || len > 15 || o < 0 || o + len > bytes.length || /\(bad\)|\.byte|xmm|mm[0-7]|ud0/.test(asmText)) continue;
        const got = decodeInsn(cache, 0, bytes, o, bytes.length, true);
        checked++;
        if (got !== len) bad.push(`${path.split('/').pop()} ${addr.toString(16)}: '${asmText}' objdump ${len}, tsxen ${got} (${OP_NAMES[cache.op[0]!]})`);
      }
    }
    expect(checked).toBeGreaterThan(10000);
    expect(bad.slice(0, 20)).toEqual([]);
  }, 60_000);
});

describe('operand forms', () => {
  it('SIB with no base, scaled index and disp32', () => {
    const d = dec([0x8b, 0x04, 0x8d, 0x78, 0x56, 0x34, 0x12]); // mov eax, [ecx*4 + 0x12345678]
    expect([d.len, d.op, d.disp]).toEqual([7, 'MOV_GE32', 0x12345678]);
    expect((d.m >> 6) & 7).toBe(1);
    expect((d.m >> 9) & 3).toBe(2);
    expect(d.m & 0x800).toBe(0);
  });

  it('EBP/ESP bases default to SS, overrides win', () => {
    expect((dec([0x8b, 0x45, 0x08]).m >> 14) & 7).toBe(2); // [ebp+8]
    expect((dec([0x8b, 0x04, 0x24]).m >> 14) & 7).toBe(2); // [esp]
    expect((dec([0x26, 0x8b, 0x45, 0x08]).m >> 14) & 7).toBe(0); // es:[ebp+8]
    expect((dec([0x8b, 0x05, 0, 0, 0, 0]).m >> 14) & 7).toBe(3); // [disp32]
  });

  it('16-bit addressing forms and the 67 prefix', () => {
    const d = dec([0x67, 0x8b, 0x42, 0x10]); // mov eax, [bp+si+0x10]
    expect([d.len, (d.m >> 14) & 7, d.disp]).toEqual([4, 2, 0x10]);
    expect(d.m & M_ADDR16).toBe(M_ADDR16);
    expect(dec([0x8b, 0x06, 0x34, 0x12], false)).toMatchObject({ len: 4, disp: 0x1234 }); // mov ax, [0x1234]
    expect(dec([0xa1, 0x34, 0x12], false).len).toBe(3); // moffs16
    expect(dec([0x67, 0xa1, 0x34, 0x12]).len).toBe(4); // moffs16 in 32-bit code
  });

  it('operand-size prefix: immediates and far pointers change size', () => {
    expect(dec([0x66, 0xb8, 0x34, 0x12])).toMatchObject({ len: 4, op: 'MOV_EI16', imm: 0x1234 });
    expect(dec([0x66, 0x68, 0xff, 0xff]).imm).toBe(-1); // push imm16 sign-extended
    expect(dec([0xea, 1, 2, 3, 4, 0x08, 0])).toMatchObject({ len: 7, op: 'JMP_FAR', imm: 0x04030201, imm2: 8 });
    expect(dec([0x66, 0xea, 1, 2, 0x08, 0])).toMatchObject({ len: 6, imm: 0x0201, imm2: 8 });
    expect(dec([0xc8, 0x10, 0x00, 0x03])).toMatchObject({ len: 4, op: 'ENTER32', imm: 0x10, imm2: 3 });
  });

  it('group opcodes select by ModRM.reg', () => {
    expect(dec([0xf7, 0xd8]).op).toBe('NEG32');
    expect(dec([0xf7, 0xc0, 1, 0, 0, 0])).toMatchObject({ op: 'TEST_EI32', len: 6 });
    expect(dec([0xff, 0xd0]).op).toBe('CALL_E');
    expect(dec([0xff, 0x2d, 0, 0, 0, 0]).op).toBe('JMP_FAR_M');
    expect(dec([0xff, 0xe8]).op).toBe('UD'); // jmp far with a register operand
    expect(dec([0x0f, 0xba, 0xe0, 5])).toMatchObject({ op: 'BT32', len: 4 });
    expect(dec([0x0f, 0x01, 0xe0]).op).toBe('SMSW'); // smsw eax
    expect(dec([0x0f, 0x01, 0xf0]).op).toBe('LMSW'); // lmsw ax
    expect(dec([0x0f, 0x01, 0xd8]).op).toBe('UD'); // lidt with a register operand
  });

  it('MOV to/from CR and DR ignore mod and take no displacement', () => {
    const d = dec([0x0f, 0x22, 0x18]); // mov cr3, eax written with mod=00
    expect([d.len, d.op, d.m & 7, (d.m >> 3) & 7]).toEqual([3, 'MOV_CR', 3, 0]);
    expect(d.m & M_IS_REG).toBe(M_IS_REG);
  });

  it('LOCK is accepted only on lockable memory forms', () => {
    expect(dec([0xf0, 0x01, 0x03]).op).toBe('ALU_EG32'); // lock add [ebx], eax
    expect(dec([0xf0, 0x01, 0x03]).m & M_LOCK).toBe(M_LOCK);
    expect(dec([0xf0, 0x01, 0xc3]).op).toBe('UD'); // register destination
    expect(dec([0xf0, 0x39, 0x03]).op).toBe('UD'); // cmp is not lockable
    expect(dec([0xf0, 0x8b, 0x03]).op).toBe('UD'); // mov is not
    expect(dec([0xf0, 0x0f, 0xc7, 0x0b]).op).toBe('CMPXCHG8B');
  });

  it('REP prefixes are recorded; F3 90 is PAUSE (a NOP)', () => {
    expect(dec([0xf3, 0xa5]).m & M_REP).toBe(M_REP);
    expect(dec([0xf3, 0x90]).op).toBe('NOP');
    expect(dec([0x66, 0xa5]).op).toBe('MOVS16');
    expect(dec([0x66, 0xa5]).m & M_OP16).toBe(M_OP16);
  });

  it('P6 model: MMX/SSE opcodes are #UD; hint NOPs decode with their ModRM', () => {
    expect(dec([0x0f, 0x6f, 0xc1]).op).toBe('UD');
    expect(dec([0x0f, 0x1f, 0x44, 0x00, 0x00])).toMatchObject({ op: 'NOP', len: 5 });
    expect(dec([0x0f, 0x18, 0x06])).toMatchObject({ op: 'NOP', len: 3 });
    expect(dec([0xf3, 0x0f, 0xbc, 0xc1]).op).toBe('BSF32');
    expect(dec([0x0f, 0x05]).op).toBe('UD');
  });
});

describe('hostile bytes', () => {
  it('an instruction longer than 15 bytes decodes to #GP(0)', () => {
    expect(dec([...new Array(15).fill(0x66), 0x90]).op).toBe('GP0');
    expect(dec([...new Array(14).fill(0x66), 0x90]).op).toBe('NOP');
  });

  it('needing bytes past the limit returns -1, never reads them', () => {
    expect(dec([0xb8, 1, 2]).len).toBe(-1);
    expect(dec([0x66]).len).toBe(-1);
    expect(dec([0x8b, 0x84]).len).toBe(-1);
  });

  it('every 3-byte sequence of interesting bytes decodes without throwing', () => {
    const interesting = [0x00, 0x0f, 0x26, 0x66, 0x67, 0x80, 0x8f, 0xc4, 0xc7, 0xd8, 0xf0, 0xf3, 0xfe, 0xff];
    const buf = new Uint8Array(16);
    let n = 0;
    for (const a of interesting) for (let b = 0; b < 256; b++) for (const c of interesting) {
      buf[0] = a; buf[1] = b; buf[2] = c;
      for (let k = 3; k < 16; k++) buf[k] = 0x10 + k;
      const len = decodeInsn(cache, 0, buf, 0, 16, (b & 1) === 0);
      expect(len >= 1 && len <= 15).toBe(true);
      expect(cache.op[0]).toBeLessThan(Object.keys(Op).length);
      n++;
    }
    expect(n).toBe(interesting.length * 256 * interesting.length);
  });
});

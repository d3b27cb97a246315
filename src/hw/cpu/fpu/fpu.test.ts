/**
 * The Fpu as the CPU drives it: instruction encodings through execute(), the register stack
 * and its faults, condition codes, the exception summary (pendingUnmasked), the last-
 * instruction pointers, all four FSAVE/FSTENV layouts, FXSAVE/FXRSTOR, restartability after
 * a memory fault, #UD encodings, the wait table, reset/FNINIT and snapshots.
 */
import { describe, expect, it } from 'vitest';
import { FPU_GP, FPU_OK, FPU_UD, Fpu, type FpuEnv, type FpuMemory, fpuWaits } from './fpu.ts';

class Fault extends Error {}

/** 64 KiB of flat memory; an access touching [faultFrom, faultTo) throws like a page fault. */
class Mem implements FpuMemory {
  readonly b = new Uint8Array(0x10000);
  private readonly _dv = new DataView(this.b.buffer);
  faultFrom = -1;
  faultTo = -1;
  private _at(l: number, n: number): number {
    if (l + n > this.faultFrom && l < this.faultTo) throw new Fault(`fault at ${l.toString(16)}`);
    return l;
  }
  read8(l: number): number { return this.b[this._at(l, 1)]; }
  read16(l: number): number { return this._dv.getUint16(this._at(l, 2), true); }
  read32(l: number): number { return this._dv.getInt32(this._at(l, 4), true); }
  write8(l: number, v: number): void { this.b[this._at(l, 1)] = v; }
  write16(l: number, v: number): void { this._dv.setUint16(this._at(l, 2), v, true); }
  write32(l: number, v: number): void { this._dv.setInt32(this._at(l, 4), v, true); }
  u16(l: number): number { return this._dv.getUint16(l, true); }
  u32(l: number): number { return this._dv.getUint32(l, true); }
  setU32(l: number, v: number): void { this._dv.setUint32(l, v >>> 0, true); }
  setU16(l: number, v: number): void { this._dv.setUint16(l, v, true); }
  f64(l: number): number { return this._dv.getFloat64(l, true); }
  setF64(l: number, v: number): void { this._dv.setFloat64(l, v, true); }
}

class Env implements FpuEnv {
  operand32 = true;
  protectedMode = true;
  cs = 0x1b;
  eip = 0x401000;
  ds = 0x23;
  ea = 0;
  eflags = 0x202;
  ax = 0;
  readEflags(): number { return this.eflags; }
  writeCompareFlags(zpc: number): void { this.eflags = (this.eflags & ~0x8d5) | zpc; }
  writeAx(v: number): void { this.ax = v; }
}

const M = 0x2000; // default memory operand

function setup(): { f: Fpu; mem: Mem; env: Env; x: (esc: number, modrm: number, lin?: number) => number } {
  const f = new Fpu();
  f.fninit();
  const mem = new Mem();
  const env = new Env();
  const x = (esc: number, modrm: number, lin = M): number => {
    env.ea = lin;
    return f.execute(esc & 7, modrm, lin, mem, env);
  };
  return { f, mem, env, x };
}

/** ModRM for a memory operand with reg field r (the CPU resolves the address). */
const mm = (r: number): number => (r << 3) | 5;
const st = (f: Fpu, i: number): string => {
  const p = (f.top + i) & 7;
  return `${(f.se[p] & 0xffff).toString(16)}:${(f.hi[p] >>> 0).toString(16).padStart(8, '0')}${(f.lo[p] >>> 0).toString(16).padStart(8, '0')}`;
};
const ONE = '3fff:8000000000000000';
const INDEF = 'ffff:c000000000000000';

/** Load a double through FLD m64. */
function fldDouble(s: ReturnType<typeof setup>, v: number): void {
  s.mem.setF64(0x3000, v);
  expect(s.x(0xdd, mm(0), 0x3000)).toBe(FPU_OK);
}
/** Store ST(0) as a double (FST m64) and read it back. */
function stDouble(s: ReturnType<typeof setup>): number {
  s.x(0xdd, mm(2), 0x3008);
  return s.mem.f64(0x3008);
}

describe('register stack', () => {
  it('push, arithmetic and pop keep TOP and the tags consistent', () => {
    const s = setup();
    const { f, x } = s;
    x(0xd9, 0xe8); // fld1
    x(0xd9, 0xeb); // fldpi
    expect(f.top).toBe(6);
    expect(f.valid).toBe(0xc0);
    x(0xde, 0xc1); // faddp st1
    expect(f.top).toBe(7);
    expect(f.valid).toBe(0x80);
    expect(stDouble(s)).toBe(Math.PI + 1);
    x(0xdd, 0xd8); // fstp st0
    expect(f.valid).toBe(0);
    expect(f.top).toBe(0);
  });

  it('a ninth push is a stack overflow: IE|SF with C1 = 1, the indefinite on top', () => {
    const { f, x } = setup();
    for (let i = 0; i < 8; i++) x(0xd9, 0xe8);
    x(0xd9, 0xee); // fldz
    expect(f.statusWord & 0x2c1).toBe(0x241); // C1 | SF | IE
    expect(st(f, 0)).toBe(INDEF);
    expect(f.pendingUnmasked).toBe(false);
  });

  it('an unmasked stack overflow changes nothing but the flags and sets ES/B', () => {
    const { f, mem, x } = setup();
    mem.setU16(M, 0x37e); // IE unmasked
    x(0xd9, mm(5)); // fldcw
    for (let i = 0; i < 8; i++) x(0xd9, 0xe8);
    const top = f.top;
    x(0xd9, 0xee);
    expect(f.top).toBe(top);
    expect(st(f, 0)).toBe(ONE);
    expect(f.statusWord & 0x80c1).toBe(0x80c1); // B | ES | SF | IE
    expect(f.pendingUnmasked).toBe(true);
  });

  it('reading an empty register is a stack underflow: IE|SF, C1 = 0, masked result indefinite', () => {
    const { f, x } = setup();
    x(0xd9, 0xe8);
    x(0xd8, 0xc1); // fadd st0, st1 (empty)
    expect(f.statusWord & 0x241).toBe(0x041);
    expect(st(f, 0)).toBe(INDEF);
  });

  it('FXCH with an empty register makes both valid; FFREE, FDECSTP and FINCSTP', () => {
    const { f, x } = setup();
    x(0xd9, 0xe8);
    x(0xd9, 0xc9); // fxch st1 (empty)
    expect(st(f, 0)).toBe(INDEF);
    expect(st(f, 1)).toBe(ONE);
    expect(f.valid).toBe(0x81);
    x(0xdd, 0xc1); // ffree st1
    expect(f.valid).toBe(0x80);
    x(0xd9, 0xf7); // fincstp
    expect(f.top).toBe(0);
    x(0xd9, 0xf6); // fdecstp
    expect(f.top).toBe(7);
  });
});

describe('constants and rounding control', () => {
  const cases: [number, string, string[]][] = [
    [0xeb, 'fldpi', ['4000:c90fdaa22168c235', '4000:c90fdaa22168c234', '4000:c90fdaa22168c235', '4000:c90fdaa22168c234']],
    [0xe9, 'fldl2t', ['4000:d49a784bcd1b8afe', '4000:d49a784bcd1b8afe', '4000:d49a784bcd1b8aff', '4000:d49a784bcd1b8afe']],
    [0xea, 'fldl2e', ['3fff:b8aa3b295c17f0bc', '3fff:b8aa3b295c17f0bb', '3fff:b8aa3b295c17f0bc', '3fff:b8aa3b295c17f0bb']],
    [0xec, 'fldlg2', ['3ffd:9a209a84fbcff799', '3ffd:9a209a84fbcff798', '3ffd:9a209a84fbcff799', '3ffd:9a209a84fbcff798']],
    [0xed, 'fldln2', ['3ffe:b17217f7d1cf79ac', '3ffe:b17217f7d1cf79ab', '3ffe:b17217f7d1cf79ac', '3ffe:b17217f7d1cf79ab']],
  ];
  for (const [modrm, name, want] of cases) {
    it(`${name} is rounded by RC and raises no PE`, () => {
      for (let rc = 0; rc < 4; rc++) {
        const { f, mem, x } = setup();
        mem.setU16(M, 0x37f | (rc << 10));
        x(0xd9, mm(5));
        x(0xd9, modrm);
        expect(st(f, 0), `rc=${rc}`).toBe(want[rc]);
        expect(f.statusWord & 0x3f).toBe(0);
      }
    });
  }
});

describe('compares', () => {
  it('FCOM sets C3/C2/C0; FUCOM takes a QNaN quietly, FCOM does not', () => {
    const s = setup();
    const { f, x } = s;
    fldDouble(s, 2);
    fldDouble(s, 1); // st0 = 1, st1 = 2
    x(0xd8, 0xd1);
    expect(f.statusWord & 0x4500).toBe(0x0100); // less
    x(0xd9, 0xc9); // fxch
    x(0xd8, 0xd1);
    expect(f.statusWord & 0x4500).toBe(0); // greater
    fldDouble(s, NaN);
    x(0xdd, 0xe1); // fucom st1
    expect(f.statusWord & 0x4501).toBe(0x4500);
    x(0xd8, 0xd1); // fcom st1
    expect(f.statusWord & 0x4501).toBe(0x4501);
  });

  it('FCOMI/FUCOMIP write ZF/PF/CF and clear OF/SF/AF', () => {
    const s = setup();
    const { f, env, x } = s;
    fldDouble(s, 1);
    fldDouble(s, 1);
    env.eflags = 0x8d5 | 0x202;
    x(0xdb, 0xf1); // fcomi st1
    expect(env.eflags & 0x8d5).toBe(0x40);
    x(0xdf, 0xe9); // fucomip st1
    expect(f.top).toBe(7);
  });

  it('FXAM classifies, FTST compares with zero, FNSTSW AX copies the status word', () => {
    const s = setup();
    const { f, env, x } = s;
    x(0xd9, 0xe5);
    expect(f.statusWord & 0x4500).toBe(0x4100); // empty
    fldDouble(s, -0);
    x(0xd9, 0xe5);
    expect(f.statusWord & 0x4700).toBe(0x4200); // zero, sign in C1
    x(0xd9, 0xe4);
    expect(f.statusWord & 0x4500).toBe(0x4000); // equal
    x(0xdf, 0xe0);
    expect(env.ax).toBe(f.statusWord);
  });
});

describe('integer and BCD stores', () => {
  it('FIST rounds by RC; out of range stores the integer indefinite with IE', () => {
    const want = [[2, 2, 3, 2], [-2, -3, -2, -2]];
    [2.5, -2.5].forEach((v, k) => {
      for (let rc = 0; rc < 4; rc++) {
        const s = setup();
        s.mem.setU16(M, 0x37f | (rc << 10));
        s.x(0xd9, mm(5));
        fldDouble(s, v);
        s.x(0xdb, mm(2), 0x4000); // fist m32
        expect(s.mem.u32(0x4000) | 0, `${v} rc=${rc}`).toBe(want[k][rc]);
        expect(s.f.statusWord & 0x20).toBe(0x20);
      }
    });
    const s = setup();
    fldDouble(s, 40000);
    s.x(0xdf, mm(3), 0x4000); // fistp m16
    expect(s.mem.u16(0x4000)).toBe(0x8000);
    expect(s.f.statusWord & 1).toBe(1);
  });

  it('FISTTP is #UD unless the CPU has SSE3, then truncates', () => {
    const s = setup();
    fldDouble(s, -2.75);
    expect(s.x(0xdb, mm(1), 0x4000)).toBe(FPU_UD);
    const f = new Fpu({ sse3: true });
    f.fninit();
    s.mem.setF64(0x3000, -2.75);
    f.execute(5, mm(0), 0x3000, s.mem, s.env);
    expect(f.execute(3, mm(1), 0x4000, s.mem, s.env)).toBe(FPU_OK);
    expect(s.mem.u32(0x4000) | 0).toBe(-2);
    expect(f.valid).toBe(0);
  });

  it('FBSTP/FBLD round-trip 18 digits; ≥ 10^18 stores the BCD indefinite', () => {
    const s = setup();
    const digits = [0x90, 0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x80];
    digits.forEach((d, i) => { s.mem.b[0x5000 + i] = d; });
    s.x(0xdf, mm(4), 0x5000); // fbld
    s.x(0xdf, mm(6), 0x5010); // fbstp
    expect(Array.from(s.mem.b.subarray(0x5010, 0x501a))).toEqual(digits);
    fldDouble(s, 1e18);
    s.x(0xdf, mm(6), 0x5020);
    expect(Array.from(s.mem.b.subarray(0x5020, 0x502a))).toEqual([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
  });
});

describe('exceptions and the summary bits', () => {
  it('an unmasked divide-by-zero leaves the destination alone and makes an exception pending', () => {
    const s = setup();
    s.mem.setU16(M, 0x37b); // ZE unmasked
    s.x(0xd9, mm(5));
    fldDouble(s, 0);
    fldDouble(s, 3);
    s.x(0xd8, 0xf1); // fdiv st0, st1
    expect(stDouble(s)).toBe(3);
    expect(s.f.pendingUnmasked).toBe(true);
    expect(s.f.statusWord & 0x8084).toBe(0x8084);
    s.x(0xdb, 0xe2); // fnclex
    expect(s.f.pendingUnmasked).toBe(false);
    expect(s.f.statusWord & 0x80ff).toBe(0);
  });

  it('FLDCW that unmasks a set flag makes it pending; masking it again clears ES', () => {
    const s = setup();
    fldDouble(s, 1);
    fldDouble(s, 3);
    s.x(0xde, 0xf9); // fdivp: 1/3 inexact
    expect(s.f.statusWord & 0x20).toBe(0x20);
    expect(s.f.pendingUnmasked).toBe(false);
    s.mem.setU16(M, 0x35f);
    s.x(0xd9, mm(5));
    expect(s.f.pendingUnmasked).toBe(true);
    s.mem.setU16(M, 0x37f);
    s.x(0xd9, mm(5));
    expect(s.f.pendingUnmasked).toBe(false);
  });

  it('precision control rounds FADD to 24 bits', () => {
    const s = setup();
    s.mem.setU16(M, 0x07f); // PC = 24 bits
    s.x(0xd9, mm(5));
    fldDouble(s, 1);
    fldDouble(s, 2 ** -30);
    s.x(0xde, 0xc1);
    expect(stDouble(s)).toBe(1);
    expect(s.f.statusWord & 0x220).toBe(0x20);
  });
});

describe('last-instruction pointers', () => {
  it('non-control instructions record FCS:FIP, FOP and (memory forms) FDS:FDP; control ones do not', () => {
    const s = setup();
    const { f, env, x } = s;
    env.cs = 0x10; env.eip = 0x1234; env.ds = 0x18;
    s.mem.setF64(0x3000, 1);
    x(0xdd, mm(0), 0x3000);
    expect([f.fcs, f.fip, f.fop, f.fds, f.fdp]).toEqual([0x10, 0x1234, 0x505, 0x18, 0x3000]);
    env.eip = 0x2000;
    x(0xd9, 0xe1); // fabs: register form keeps FDP
    expect([f.fip, f.fop, f.fdp]).toEqual([0x2000, 0x1e1, 0x3000]);
    env.eip = 0x3000;
    x(0xd9, mm(7), 0x6000); // fnstcw: control
    x(0xdb, 0xe2); // fnclex
    expect([f.fip, f.fop]).toEqual([0x2000, 0x1e1]);
  });
});

describe('state images', () => {
  function loaded(): ReturnType<typeof setup> {
    const s = setup();
    s.env.cs = 0x1234; s.env.eip = 0x5678; s.env.ds = 0x2345;
    s.mem.setF64(0x3000, 1.5);
    s.x(0xdd, mm(0), 0x3000); // fld m64: FDP = 0x3000, FOP = 0x505
    s.x(0xd9, 0xee); // fldz (FOP = 0x1ee)
    return s;
  }

  it('32-bit protected FNSTENV: CW, SW, full tag word, pointers; then masks all exceptions', () => {
    const s = loaded();
    s.mem.setU16(M, 0x360);
    s.x(0xd9, mm(5));
    s.x(0xd9, mm(6), 0x7000);
    const m = s.mem;
    expect(m.u32(0x7000)).toBe(0xffff0360);
    expect(m.u32(0x7004)).toBe((0xffff0000 | (6 << 11)) >>> 0);
    expect(m.u32(0x7008)).toBe(0xffff1fff); // R6 zero (01), R7 valid (00), rest empty (11)
    expect(m.u32(0x700c)).toBe(0x5678);
    expect(m.u32(0x7010)).toBe(0x1234 | (0x1ee << 16));
    expect(m.u32(0x7014)).toBe(0x3000);
    expect(m.u32(0x7018)).toBe(0xffff2345);
    expect(s.f.cw & 0x3f).toBe(0x3f);
  });

  it('16-bit protected, 32-bit real and 16-bit real layouts', () => {
    const s = loaded();
    s.env.operand32 = false;
    s.x(0xd9, mm(6), 0x7000);
    expect([0, 2, 4, 6, 8, 10, 12].map((o) => s.mem.u16(0x7000 + o))).toEqual([0x37f, 6 << 11, 0x1fff, 0x5678, 0x1234, 0x3000, 0x2345]);
    // Real mode: linear addresses, FIP = CS·16 + IP split around FOP.
    s.env.protectedMode = false;
    s.x(0xd9, mm(6), 0x7100);
    const ip = 0x1234 * 16 + 0x5678, dp = 0x2345 * 16 + 0x3000;
    expect(s.mem.u16(0x7106)).toBe(ip & 0xffff);
    expect(s.mem.u16(0x7108)).toBe(((ip >>> 16) << 12) | 0x1ee);
    expect(s.mem.u16(0x710a)).toBe(dp & 0xffff);
    expect(s.mem.u16(0x710c)).toBe((dp >>> 16) << 12);
    s.env.operand32 = true;
    s.x(0xd9, mm(6), 0x7200);
    expect(s.mem.u32(0x720c)).toBe((0xffff0000 | (ip & 0xffff)) >>> 0);
    expect(s.mem.u32(0x7210)).toBe(0x1ee | ((ip >>> 16) << 12));
    expect(s.mem.u32(0x7214)).toBe((0xffff0000 | (dp & 0xffff)) >>> 0);
    expect(s.mem.u32(0x7218)).toBe((dp >>> 16) << 12);
  });

  for (const [o32, pm] of [[true, true], [false, true], [true, false], [false, false]] as const) {
    it(`FNSAVE/FRSTOR round-trip (${o32 ? 32 : 16}-bit, ${pm ? 'protected' : 'real'} layout); FNSAVE reinitializes`, () => {
      const s = loaded();
      s.env.operand32 = o32; s.env.protectedMode = pm;
      const before = s.f.serialize();
      s.x(0xdd, mm(6), 0x7000);
      expect(s.f.valid).toBe(0);
      expect(s.f.cw).toBe(0x37f);
      s.x(0xdd, mm(4), 0x7000);
      const after = s.f.serialize();
      // The 16-bit protected layout has no FOP; real-mode layouts hold linear addresses.
      if (pm && o32) expect(after).toEqual(before);
      else if (pm) expect({ ...after, fop: 0 }).toEqual({ ...before, fop: 0 });
      else expect({ ...after, fip: 0, fcs: 0, fdp: 0, fds: 0 }).toEqual({ ...before, fip: 0, fcs: 0, fdp: 0, fds: 0 });
      expect(st(s.f, 1)).toBe(ONE.replace('8000', 'c000'));
    });
  }

  it('FRSTOR takes only empty/non-empty from the tag word', () => {
    const s = loaded();
    s.x(0xdd, mm(6), 0x7000);
    s.mem.setU32(0x7008, 0xffff6fff); // claim R6 "special", R7 "zero"
    s.x(0xdd, mm(4), 0x7000);
    s.x(0xd9, mm(6), 0x7100);
    expect(s.mem.u32(0x7108)).toBe(0xffff1fff); // recomputed from contents
  });

  it('FXSAVE layout; FXRSTOR restores; misalignment and reserved MXCSR bits are #GP', () => {
    const s = loaded();
    expect(s.f.fxsave(0x8004, s.mem)).toBe(FPU_GP);
    expect(s.f.fxsave(0x8000, s.mem)).toBe(FPU_OK);
    const m = s.mem;
    expect(m.u16(0x8000)).toBe(0x37f);
    expect(m.u16(0x8002)).toBe(6 << 11);
    expect(m.b[0x8004]).toBe(0xc0);
    expect(m.u16(0x8006)).toBe(0x1ee);
    expect([m.u32(0x8008), m.u16(0x800c), m.u32(0x8010), m.u16(0x8014)]).toEqual([0x5678, 0x1234, 0x3000, 0x2345]);
    expect(m.u32(0x8018)).toBe(0x1f80);
    expect(m.u16(0x8020 + 16 + 8)).toBe(0x3fff); // ST1 = 1.5
    const snap = s.f.serialize();
    s.f.fninit();
    m.setU32(0x8018, 0x10000); // reserved MXCSR bit
    expect(s.f.fxrstor(0x8000, m)).toBe(FPU_GP);
    expect(s.f.valid).toBe(0);
    m.setU32(0x8018, 0x1f80);
    expect(s.f.fxrstor(0x8000, m)).toBe(FPU_OK);
    expect(s.f.serialize()).toEqual(snap);
  });
});

describe('restartability', () => {
  it('a fault in a store or load leaves the FPU state unchanged', () => {
    const s = setup();
    fldDouble(s, 1.25);
    fldDouble(s, 2.5);
    const before = s.f.serialize();
    s.mem.faultFrom = 0x9000; s.mem.faultTo = 0xa000;
    // FSTP m80 straddling into the faulting page, FLD m64 from it, FNSAVE and FRSTOR across it.
    expect(() => s.x(0xdb, mm(7), 0x8ffc)).toThrow(Fault);
    expect(() => s.x(0xdd, mm(0), 0x8ffc)).toThrow(Fault);
    expect(() => s.x(0xdd, mm(6), 0x8fa0)).toThrow(Fault);
    expect(() => s.x(0xdd, mm(4), 0x8fa0)).toThrow(Fault);
    expect(() => s.x(0xdf, mm(7), 0x8ffc)).toThrow(Fault); // fistp m64
    expect(s.f.serialize()).toEqual(before);
    s.mem.faultFrom = -1; s.mem.faultTo = -1;
    s.x(0xdb, mm(7), 0x8ffc);
    expect(s.f.top).toBe(7);
  });
});

describe('encodings', () => {
  const invalid: [number, number][] = [
    [0xd9, mm(1)], [0xd9, 0xd1], [0xd9, 0xd7], [0xd9, 0xe2], [0xd9, 0xe3], [0xd9, 0xe6], [0xd9, 0xe7], [0xd9, 0xef],
    [0xda, 0xe0], [0xda, 0xe8], [0xda, 0xea], [0xda, 0xf0], [0xda, 0xff],
    [0xdb, mm(4)], [0xdb, mm(6)], [0xdb, 0xe5], [0xdb, 0xe6], [0xdb, 0xe7], [0xdb, 0xf8], [0xdb, 0xff],
    [0xdd, mm(5)], [0xdd, 0xf0], [0xdd, 0xff], [0xde, 0xd8], [0xde, 0xda], [0xde, 0xdf],
    [0xdf, 0xe1], [0xdf, 0xe7], [0xdf, 0xf8], [0xdf, 0xff],
  ];
  it('invalid encodings are #UD and change nothing', () => {
    const s = setup();
    fldDouble(s, 3);
    const before = s.f.serialize();
    for (const [esc, modrm] of invalid) expect(s.x(esc, modrm), `${esc.toString(16)} ${modrm.toString(16)}`).toBe(FPU_UD);
    expect(s.f.serialize()).toEqual(before);
  });

  it('the no-wait control instructions are the only ones that skip the pending-exception check', () => {
    const noWait: [number, number][] = [[0xdb, 0xe0], [0xdb, 0xe1], [0xdb, 0xe2], [0xdb, 0xe3], [0xdb, 0xe4], [0xdf, 0xe0], [0xd9, mm(6)], [0xd9, mm(7)], [0xdd, mm(6)], [0xdd, mm(7)], [0xd9, 0x38 | 0x40]];
    for (const [esc, modrm] of noWait) expect(fpuWaits(esc & 7, modrm), `${esc.toString(16)} ${modrm.toString(16)}`).toBe(false);
    for (const [esc, modrm] of [[0xd9, mm(5)], [0xd9, mm(4)], [0xdd, mm(4)], [0xd8, 0xc1], [0xdb, 0xe8], [0xd9, 0xd0], [0xdf, mm(0)]]) {
      expect(fpuWaits(esc & 7, modrm)).toBe(true);
    }
  });
});

describe('reset, FNINIT and snapshots', () => {
  it('power-on state differs from FNINIT', () => {
    const f = new Fpu();
    expect(f.cw).toBe(0x40);
    expect(f.valid).toBe(0xff);
    f.fninit();
    expect(f.cw).toBe(0x37f);
    expect(f.valid).toBe(0);
  });

  it('serialize/restore round-trips and rejects other versions', () => {
    const s = setup();
    fldDouble(s, Math.E);
    const snap = s.f.serialize();
    const g = new Fpu();
    g.restore(JSON.parse(JSON.stringify(snap)));
    expect(g.serialize()).toEqual(snap);
    expect(() => g.restore({ ...snap, version: 2 as 1 })).toThrow(/version/);
  });
});

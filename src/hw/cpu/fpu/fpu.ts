/**
 * The x87 FPU of the emulated IA-32 CPU: register stack, control/status/tag words, the
 * last-instruction pointers, and the contract through which the CPU drives it.
 *
 * ## Contract with the CPU
 * The CPU decodes ESC opcodes D8..DF and their ModRM, computes the effective and linear
 * address of a memory operand, and then:
 *  1. raises #NM itself if CR0.EM or CR0.TS is set (WAIT/FWAIT: only if CR0.MP and CR0.TS);
 *     FXSAVE/FXRSTOR (0F AE /0 and /1): #NM if CR0.TS; CR0.EM gives #UD in the current SDM,
 *     #NM in the P6-era manuals (the CPU chooses);
 *  2. if `fpuWaits(op, modrm)` and `fpu.pendingUnmasked`, raises #MF (CR0.NE=1) or asserts
 *     FERR#/IRQ13 and, unless IGNNE# is asserted, waits (CR0.NE=0) before the instruction;
 *     WAIT/FWAIT does the same check and nothing else;
 *  3. calls `fpu.execute(op, modrm, linear, mem, env)` with op = escape byte & 7, fills
 *     `env` (one mutable object per CPU, no allocation) and acts on the return code:
 *     FPU_OK, or FPU_UD (invalid encoding: raise #UD; nothing was changed).
 *     FXSAVE/FXRSTOR: `fxsave(linear, mem)` / `fxrstor(linear, mem)` return FPU_OK or
 *     FPU_GP (misaligned operand, or reserved MXCSR bits on FXRSTOR: raise #GP(0)).
 *  4. Faults inside `mem` (page fault, segment limit) are thrown by the CPU's own accessors
 *     and simply propagate: every instruction reads all of its memory operands before it
 *     changes any FPU state, and writes all of its memory results before it commits any FPU
 *     state (stores go in ascending address order; a fault part-way leaves a partial store
 *     that the restarted instruction rewrites with the same bytes). So a faulting instruction
 *     leaves the FPU exactly as it was and can be restarted.
 * Unmasked exceptions are not thrown: they set ES (and B) in the status word, which the CPU
 * sees as `pendingUnmasked` before the next waiting FPU instruction.
 *
 * ## State layout
 * Physical registers R0..R7 in three Int32Arrays (`se` = sign<<15 | exponent, `hi`/`lo` =
 * significand halves), indexed by physical number; ST(i) is R[(top + i) & 7]. Tags are kept
 * as one valid-bit per physical register (`valid`, bit i = Ri not empty), as in FXSAVE's
 * abridged tag; the full 2-bit tag word is derived from the contents when it is stored
 * (FSTENV/FSAVE), as the hardware does. `sw` holds the status word without TOP (bits 13..11
 * always 0); `top` holds TOP. ES and B are kept equal to "an unmasked exception flag is set"
 * after every instruction and every control/status load.
 *
 * The last non-control instruction's CS:EIP, opcode (11 bits) and, if it had a memory
 * operand, DS:offset are recorded in fcs/fip/fop/fds/fdp (P6 behaviour: always recorded,
 * never only on exceptions).
 */
import { fpuExecute } from './fpu_exec.ts';
import { fxrstorImage, fxsaveImage } from './fpu_save.ts';
import { ES, EXC_MASK, BUSY } from './f80.ts';

/** Memory access by linear address; accessors may throw the CPU's fault object. */
export interface FpuMemory {
  read8(linear: number): number;
  read16(linear: number): number;
  read32(linear: number): number;
  write8(linear: number, value: number): void;
  write16(linear: number, value: number): void;
  write32(linear: number, value: number): void;
}

/**
 * What the FPU needs from the CPU for one instruction. The CPU keeps one object and updates
 * its fields before each call.
 */
export interface FpuEnv {
  /** Operand size is 32 bits (selects the FSTENV/FSAVE image layout). */
  operand32: boolean;
  /** Protected-mode image layout (false in real mode and in VM86 mode). */
  protectedMode: boolean;
  /** CS selector and offset of the instruction (first prefix byte), for FCS:FIP. */
  cs: number;
  eip: number;
  /** Segment selector and effective address (offset) of the memory operand, for FDS:FDP. */
  ds: number;
  ea: number;
  /** EFLAGS as the instruction sees it (FCMOVcc reads CF, PF, ZF). */
  readEflags(): number;
  /** FCOMI family: set ZF, PF, CF to the given EFLAGS bits (0x40|0x04|0x01), clear OF, SF, AF. */
  writeCompareFlags(zpc: number): void;
  /** FNSTSW AX. */
  writeAx(value: number): void;
}

export const FPU_OK = 0;
/** Invalid opcode: raise #UD; the FPU state is unchanged. */
export const FPU_UD = 6;
/** General protection (FXSAVE/FXRSTOR alignment, reserved MXCSR bits): raise #GP(0). */
export const FPU_GP = 13;

export interface FpuOptions {
  /** Execute FISTTP (an SSE3 instruction). Off by default: the CPU advertises no SSE3. */
  sse3?: boolean;
}

/** Versioned snapshot. Registers are in physical order R0..R7. */
export interface FpuSnapshot {
  readonly kind: 'x87';
  readonly version: 1;
  readonly cw: number;
  readonly sw: number;
  readonly tagValid: number;
  readonly regs: readonly { readonly se: number; readonly hi: number; readonly lo: number }[];
  readonly fip: number;
  readonly fcs: number;
  readonly fop: number;
  readonly fdp: number;
  readonly fds: number;
  readonly mxcsr: number;
}

/**
 * Does this ESC instruction check for pending unmasked exceptions first? All do except the
 * no-wait control forms: FNINIT, FNCLEX, FNSTCW, FNSTSW (m16 and AX), FNSTENV, FNSAVE, and
 * the 8087/287 leftovers FNENI, FNDISI, FNSETPM (no-ops here).
 */
export function fpuWaits(op: number, modrm: number): boolean {
  const reg = (modrm >> 3) & 7;
  if (modrm < 0xc0) {
    if (op === 1) return reg !== 6 && reg !== 7;
    if (op === 5) return reg !== 6 && reg !== 7;
    return true;
  }
  if (op === 3) return !(modrm === 0xe0 || modrm === 0xe1 || modrm === 0xe2 || modrm === 0xe3 || modrm === 0xe4);
  if (op === 7) return modrm !== 0xe0;
  return true;
}

export class Fpu {
  readonly se = new Int32Array(8);
  readonly hi = new Int32Array(8);
  readonly lo = new Int32Array(8);
  /** Control word (bits 15..13 read as 0, bit 6 as 1). */
  cw = 0x037f;
  /** Status word without TOP. */
  sw = 0;
  top = 0;
  /** Bit i set: physical register Ri is not empty. */
  valid = 0;
  fip = 0;
  fcs = 0;
  fop = 0;
  fdp = 0;
  fds = 0;
  /** MXCSR as FXSAVE/FXRSTOR carry it (no SSE unit executes with it). */
  mxcsr = 0x1f80;
  readonly sse3: boolean;

  constructor(options: FpuOptions = {}) {
    this.sse3 = options.sse3 ?? false;
    this.reset();
  }

  /** Execute one ESC instruction. See the contract above. */
  execute(op: number, modrm: number, linear: number, mem: FpuMemory, env: FpuEnv): number {
    return fpuExecute(this, op, modrm, linear, mem, env);
  }

  /** An unmasked exception is pending: the next waiting instruction must raise #MF. */
  get pendingUnmasked(): boolean {
    return (this.sw & ES) !== 0;
  }

  /** The status word as FNSTSW stores it. */
  get statusWord(): number {
    return (this.sw & ~0x3800) | (this.top << 11);
  }

  /** Power-on / RESET state (SDM vol. 3 table 9-1): CW 0040h, all registers +0 and tagged valid. */
  reset(): void {
    this.se.fill(0);
    this.hi.fill(0);
    this.lo.fill(0);
    this.cw = 0x0040;
    this.sw = 0;
    this.top = 0;
    this.valid = 0xff;
    this.fip = 0; this.fcs = 0; this.fop = 0; this.fdp = 0; this.fds = 0;
    this.mxcsr = 0x1f80;
  }

  /** FNINIT: CW 037Fh, status and pointers cleared, all registers empty (contents kept). */
  fninit(): void {
    this.cw = 0x037f;
    this.sw = 0;
    this.top = 0;
    this.valid = 0;
    this.fip = 0; this.fcs = 0; this.fop = 0; this.fdp = 0; this.fds = 0;
  }

  /** Recompute ES and B from the exception flags and masks (387 and later: B mirrors ES). */
  updateSummary(): void {
    if ((this.sw & ~this.cw & EXC_MASK) !== 0) this.sw |= ES | BUSY;
    else this.sw &= ~(ES | BUSY);
  }

  /** FXSAVE: the 512-byte image at a 16-byte aligned linear address. */
  fxsave(linear: number, mem: FpuMemory): number {
    return fxsaveImage(this, linear, mem);
  }

  /** FXRSTOR. */
  fxrstor(linear: number, mem: FpuMemory): number {
    return fxrstorImage(this, linear, mem);
  }

  serialize(): FpuSnapshot {
    const regs = [];
    for (let i = 0; i < 8; i++) regs.push({ se: this.se[i] & 0xffff, hi: this.hi[i] >>> 0, lo: this.lo[i] >>> 0 });
    return {
      kind: 'x87', version: 1, cw: this.cw, sw: this.statusWord, tagValid: this.valid, regs,
      fip: this.fip >>> 0, fcs: this.fcs, fop: this.fop, fdp: this.fdp >>> 0, fds: this.fds, mxcsr: this.mxcsr >>> 0,
    };
  }

  restore(s: FpuSnapshot): void {
    if (s.kind !== 'x87' || s.version !== 1) throw new Error(`x87 snapshot: unsupported kind/version ${String(s.kind)}/${String(s.version)}`);
    if (s.regs.length !== 8) throw new Error(`x87 snapshot: regs has ${s.regs.length} entries, want 8`);
    for (let i = 0; i < 8; i++) {
      const r = s.regs[i];
      this.se[i] = r.se & 0xffff;
      this.hi[i] = r.hi | 0;
      this.lo[i] = r.lo | 0;
    }
    this.cw = (s.cw & 0x1f3f) | 0x40;
    this.top = (s.sw >> 11) & 7;
    this.sw = s.sw & ~0x3800 & 0xffff;
    this.valid = s.tagValid & 0xff;
    this.fip = s.fip | 0; this.fcs = s.fcs & 0xffff; this.fop = s.fop & 0x7ff;
    this.fdp = s.fdp | 0; this.fds = s.fds & 0xffff;
    this.mxcsr = s.mxcsr | 0;
    this.updateSummary();
  }
}

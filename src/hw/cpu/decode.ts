/**
 * The IA-32 (i686) instruction decoder: bytes -> one pool slot of the CodeCache
 * (op, len, m, disp, imm, imm2; layout in ops.ts).
 *
 * Invariants:
 *  - Pure: the result depends only on the bytes and the default size (code32). Privilege,
 *    mode and CPUID checks happen when the instruction executes, so a block decoded once
 *    serves every CPU state with the same code size.
 *  - Bounded: never reads at or past `limit`; an instruction that needs more bytes returns
 *    -1 (the caller ends the block there, or decodes it alone from a gathered buffer).
 *  - Every byte sequence decodes to something: an op, UD (#UD when executed) or GP0 (more
 *    than 15 bytes: #GP(0) when executed). The decoder never throws on guest bytes.
 *  - LOCK is accepted only on the lockable read-modify-write forms with a memory
 *    destination; anything else with LOCK decodes to UD, as the SDM requires.
 *  - P6 model: no MMX/SSE opcodes (CPUID advertises none); 0F 18-1F are hint NOPs; F3 0F BC
 *    and F3 0F BD are BSF/BSR (no TZCNT/LZCNT); 0F 05/07 (SYSCALL/SYSRET), 0F 0D and the
 *    3DNow! space are #UD; D6 is SALC.
 */
import type { CodeCache } from './code_cache.ts';
import {
  M_ADDR16, M_HAS_BASE, M_HAS_INDEX, M_IS_REG, M_LOCK, M_OP16, M_REP, M_REPNE, M_SEGOVR, Op,
} from './ops.ts';

const MAX_INSN = 15;

// Results of modrm(): module-level because the decoder is single-threaded and this avoids
// allocating a result object per instruction.
let rmM = 0;
let rmDisp = 0;
let rmByte = 0;

/**
 * Decode ModRM (+SIB +displacement) at bytes[p]. Sets rmM (reg, rm/base/index/scale, flags,
 * default segment), rmDisp and rmByte; returns the new position or -1 if past `limit`.
 */
function modrm(bytes: Uint8Array, p: number, limit: number, a16: boolean, seg: number): number {
  if (p >= limit) return -1;
  const b = bytes[p++]!;
  rmByte = b;
  const mod = b >> 6, reg = (b >> 3) & 7, rm = b & 7;
  let m = reg;
  let disp = 0;
  let defSeg = 3;
  if (mod === 3) {
    rmM = m | (rm << 3) | M_IS_REG | ((seg < 0 ? 3 : seg) << 14);
    rmDisp = 0;
    return p;
  }
  if (a16) {
    m |= M_ADDR16;
    switch (rm) {
      case 0: m |= (3 << 3) | M_HAS_BASE | (6 << 6) | M_HAS_INDEX; break; // BX+SI
      case 1: m |= (3 << 3) | M_HAS_BASE | (7 << 6) | M_HAS_INDEX; break; // BX+DI
      case 2: m |= (5 << 3) | M_HAS_BASE | (6 << 6) | M_HAS_INDEX; defSeg = 2; break; // BP+SI
      case 3: m |= (5 << 3) | M_HAS_BASE | (7 << 6) | M_HAS_INDEX; defSeg = 2; break; // BP+DI
      case 4: m |= (6 << 3) | M_HAS_BASE; break; // SI
      case 5: m |= (7 << 3) | M_HAS_BASE; break; // DI
      case 6:
        if (mod !== 0) {
          m |= (5 << 3) | M_HAS_BASE;
          defSeg = 2;
        }
        break; // BP, or disp16 alone
      default: m |= (3 << 3) | M_HAS_BASE; break; // BX
    }
    if (mod === 1) {
      if (p + 1 > limit) return -1;
      disp = (bytes[p++]! << 24) >> 24;
    } else if (mod === 2 || (mod === 0 && rm === 6)) {
      if (p + 2 > limit) return -1;
      disp = bytes[p]! | (bytes[p + 1]! << 8);
      p += 2;
    }
  } else {
    if (rm === 4) {
      if (p >= limit) return -1;
      const sib = bytes[p++]!;
      const scale = sib >> 6, index = (sib >> 3) & 7, base = sib & 7;
      if (index !== 4) m |= (index << 6) | (scale << 9) | M_HAS_INDEX;
      if (base === 5 && mod === 0) {
        if (p + 4 > limit) return -1;
        disp = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
        p += 4;
      } else {
        m |= (base << 3) | M_HAS_BASE;
        if (base === 4 || base === 5) defSeg = 2;
      }
    } else if (rm === 5 && mod === 0) {
      if (p + 4 > limit) return -1;
      disp = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
      p += 4;
    } else {
      m |= (rm << 3) | M_HAS_BASE;
      if (rm === 5) defSeg = 2;
    }
    if (mod === 1) {
      if (p + 1 > limit) return -1;
      disp = (bytes[p++]! << 24) >> 24;
    } else if (mod === 2) {
      if (p + 4 > limit) return -1;
      disp = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
      p += 4;
    }
  }
  rmM = m | ((seg < 0 ? defSeg : seg) << 14);
  rmDisp = disp;
  return p;
}

/** Sizes of immediates. */
const I_NONE = 0, I_B = 1, I_W = 2, I_Z = 3, I_WB = 4, I_AP = 5, I_BU = 6;

/**
 * Decode one instruction at bytes[p..limit) into pool slot k. Returns its length, or -1 if
 * it needs bytes at or past `limit`.
 */
export function decodeInsn(c: CodeCache, k: number, bytes: Uint8Array, p: number, limit: number, code32: boolean): number {
  const start = p;
  let op16 = !code32, a16 = !code32;
  let seg = -1, rep = 0, lock = false;
  let b = 0;
  for (;;) {
    if (p >= limit) return -1;
    if (p - start >= MAX_INSN) return tooLong(c, k, start, p);
    b = bytes[p++]!;
    if (b === 0x66) op16 = code32;
    else if (b === 0x67) a16 = code32;
    else if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e) seg = (b >> 3) & 3;
    else if (b === 0x64 || b === 0x65) seg = b - 0x60;
    else if (b === 0xf0) lock = true;
    else if (b === 0xf2) rep = 2;
    else if (b === 0xf3) rep = 1;
    else break;
  }
  let op: number = Op.UD;
  let aux = 0;
  let hasModrm = false;
  let immKind = I_NONE;
  let m = 0, disp = 0, imm = 0, imm2 = 0;
  let memOnly = false;
  let lockable = false;

  if (b !== 0x0f) {
    if (b < 0x40 && (b & 7) < 6) {
      // 00-3D: the eight ALU ops in six forms each
      aux = b >> 3;
      lockable = aux !== 7;
      switch (b & 7) {
        case 0: op = Op.ALU_EG8; hasModrm = true; break;
        case 1: op = op16 ? Op.ALU_EG16 : Op.ALU_EG32; hasModrm = true; break;
        case 2: op = Op.ALU_GE8; hasModrm = true; lockable = false; break;
        case 3: op = op16 ? Op.ALU_GE16 : Op.ALU_GE32; hasModrm = true; lockable = false; break;
        case 4: op = Op.ALU_EI8; immKind = I_B; m = M_IS_REG; lockable = false; break;
        default: op = op16 ? Op.ALU_EI16 : Op.ALU_EI32; immKind = I_Z; m = M_IS_REG; lockable = false; break;
      }
    } else {
      switch (b) {
        case 0x06: case 0x0e: case 0x16: case 0x1e:
          op = op16 ? Op.PUSH_SEG16 : Op.PUSH_SEG32; aux = b >> 3; break;
        case 0x07: case 0x17: case 0x1f:
          op = op16 ? Op.POP_SEG16 : Op.POP_SEG32; aux = b >> 3; break;
        case 0x27: op = Op.DAA; break;
        case 0x2f: op = Op.DAS; break;
        case 0x37: op = Op.AAA; break;
        case 0x3f: op = Op.AAS; break;
        case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
          op = op16 ? Op.INC16 : Op.INC32; m = M_IS_REG | ((b & 7) << 3); break;
        case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
          op = op16 ? Op.DEC16 : Op.DEC32; m = M_IS_REG | ((b & 7) << 3); break;
        case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
          op = op16 ? Op.PUSH16 : Op.PUSH32; m = M_IS_REG | ((b & 7) << 3); break;
        case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
          op = op16 ? Op.POP16 : Op.POP32; m = M_IS_REG | ((b & 7) << 3); break;
        case 0x60: op = op16 ? Op.PUSHA16 : Op.PUSHA32; break;
        case 0x61: op = op16 ? Op.POPA16 : Op.POPA32; break;
        case 0x62: op = op16 ? Op.BOUND16 : Op.BOUND32; hasModrm = true; memOnly = true; break;
        case 0x63: op = Op.ARPL; hasModrm = true; break;
        case 0x68: op = op16 ? Op.PUSH_I16 : Op.PUSH_I32; immKind = I_Z; break;
        case 0x69: op = op16 ? Op.IMUL_GEI16 : Op.IMUL_GEI32; hasModrm = true; immKind = I_Z; break;
        case 0x6a: op = op16 ? Op.PUSH_I16 : Op.PUSH_I32; immKind = I_B; break;
        case 0x6b: op = op16 ? Op.IMUL_GEI16 : Op.IMUL_GEI32; hasModrm = true; immKind = I_B; break;
        case 0x6c: op = Op.INS8; break;
        case 0x6d: op = op16 ? Op.INS16 : Op.INS32; break;
        case 0x6e: op = Op.OUTS8; break;
        case 0x6f: op = op16 ? Op.OUTS16 : Op.OUTS32; break;
        case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
        case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
          op = Op.JCC; aux = b & 15; immKind = I_B; break;
        case 0x80: case 0x82:
          op = Op.ALU_EI8; hasModrm = true; immKind = I_B; aux = -1; lockable = true; break;
        case 0x81: op = op16 ? Op.ALU_EI16 : Op.ALU_EI32; hasModrm = true; immKind = I_Z; aux = -1; lockable = true; break;
        case 0x83: op = op16 ? Op.ALU_EI16 : Op.ALU_EI32; hasModrm = true; immKind = I_B; aux = -1; lockable = true; break;
        case 0x84: op = Op.TEST_EG8; hasModrm = true; break;
        case 0x85: op = op16 ? Op.TEST_EG16 : Op.TEST_EG32; hasModrm = true; break;
        case 0x86: op = Op.XCHG8; hasModrm = true; lockable = true; break;
        case 0x87: op = op16 ? Op.XCHG16 : Op.XCHG32; hasModrm = true; lockable = true; break;
        case 0x88: op = Op.MOV_EG8; hasModrm = true; break;
        case 0x89: op = op16 ? Op.MOV_EG16 : Op.MOV_EG32; hasModrm = true; break;
        case 0x8a: op = Op.MOV_GE8; hasModrm = true; break;
        case 0x8b: op = op16 ? Op.MOV_GE16 : Op.MOV_GE32; hasModrm = true; break;
        case 0x8c: op = Op.MOV_ES; hasModrm = true; break;
        case 0x8d: op = op16 ? Op.LEA16 : Op.LEA32; hasModrm = true; memOnly = true; break;
        case 0x8e: op = Op.MOV_SE; hasModrm = true; break;
        case 0x8f: op = op16 ? Op.POP16 : Op.POP32; hasModrm = true; aux = -2; break;
        case 0x90:
          op = Op.NOP; break;
        case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
          op = op16 ? Op.XCHG16 : Op.XCHG32; m = M_IS_REG | (b & 7) << 3; break;
        case 0x98: op = op16 ? Op.CBW : Op.CWDE; break;
        case 0x99: op = op16 ? Op.CWD : Op.CDQ; break;
        case 0x9a: op = Op.CALL_FAR; immKind = I_AP; break;
        case 0x9b: op = Op.FWAIT; break;
        case 0x9c: op = op16 ? Op.PUSHF16 : Op.PUSHF32; break;
        case 0x9d: op = op16 ? Op.POPF16 : Op.POPF32; break;
        case 0x9e: op = Op.SAHF; break;
        case 0x9f: op = Op.LAHF; break;
        case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
          // moffs: a displacement-only memory operand of the address size
          if (a16) {
            if (p + 2 > limit) return -1;
            disp = bytes[p]! | (bytes[p + 1]! << 8);
            p += 2;
          } else {
            if (p + 4 > limit) return -1;
            disp = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
            p += 4;
          }
          m = (a16 ? M_ADDR16 : 0) | ((seg < 0 ? 3 : seg) << 14);
          if (b === 0xa0) op = Op.MOV_GE8;
          else if (b === 0xa1) op = op16 ? Op.MOV_GE16 : Op.MOV_GE32;
          else if (b === 0xa2) op = Op.MOV_EG8;
          else op = op16 ? Op.MOV_EG16 : Op.MOV_EG32;
          break;
        }
        case 0xa4: op = Op.MOVS8; break;
        case 0xa5: op = op16 ? Op.MOVS16 : Op.MOVS32; break;
        case 0xa6: op = Op.CMPS8; break;
        case 0xa7: op = op16 ? Op.CMPS16 : Op.CMPS32; break;
        case 0xa8: op = Op.TEST_EI8; immKind = I_B; m = M_IS_REG; break;
        case 0xa9: op = op16 ? Op.TEST_EI16 : Op.TEST_EI32; immKind = I_Z; m = M_IS_REG; break;
        case 0xaa: op = Op.STOS8; break;
        case 0xab: op = op16 ? Op.STOS16 : Op.STOS32; break;
        case 0xac: op = Op.LODS8; break;
        case 0xad: op = op16 ? Op.LODS16 : Op.LODS32; break;
        case 0xae: op = Op.SCAS8; break;
        case 0xaf: op = op16 ? Op.SCAS16 : Op.SCAS32; break;
        case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
          op = Op.MOV_EI8; immKind = I_B; m = M_IS_REG | ((b & 7) << 3); break;
        case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
          op = op16 ? Op.MOV_EI16 : Op.MOV_EI32; immKind = I_Z; m = M_IS_REG | ((b & 7) << 3); break;
        case 0xc0: op = Op.SHIFT8; hasModrm = true; immKind = I_B; aux = -3; break;
        case 0xc1: op = op16 ? Op.SHIFT16 : Op.SHIFT32; hasModrm = true; immKind = I_B; aux = -3; break;
        case 0xc2: op = Op.RET; immKind = I_W; break;
        case 0xc3: op = Op.RET; break;
        case 0xc4: op = op16 ? Op.LSEG16 : Op.LSEG32; aux = 0; hasModrm = true; memOnly = true; break;
        case 0xc5: op = op16 ? Op.LSEG16 : Op.LSEG32; aux = 3; hasModrm = true; memOnly = true; break;
        case 0xc6: op = Op.MOV_EI8; hasModrm = true; immKind = I_B; aux = -2; break;
        case 0xc7: op = op16 ? Op.MOV_EI16 : Op.MOV_EI32; hasModrm = true; immKind = I_Z; aux = -2; break;
        case 0xc8: op = op16 ? Op.ENTER16 : Op.ENTER32; immKind = I_WB; break;
        case 0xc9: op = op16 ? Op.LEAVE16 : Op.LEAVE32; break;
        case 0xca: op = Op.RETF; immKind = I_W; break;
        case 0xcb: op = Op.RETF; break;
        case 0xcc: op = Op.INT3; break;
        case 0xcd: op = Op.INT; immKind = I_BU; break;
        case 0xce: op = Op.INTO; break;
        case 0xcf: op = Op.IRET; break;
        case 0xd0: op = Op.SHIFT8; hasModrm = true; imm = 1; aux = -3; break;
        case 0xd1: op = op16 ? Op.SHIFT16 : Op.SHIFT32; hasModrm = true; imm = 1; aux = -3; break;
        case 0xd2: op = Op.SHIFT8; hasModrm = true; aux = -4; break;
        case 0xd3: op = op16 ? Op.SHIFT16 : Op.SHIFT32; hasModrm = true; aux = -4; break;
        case 0xd4: op = Op.AAM; immKind = I_BU; break;
        case 0xd5: op = Op.AAD; immKind = I_BU; break;
        case 0xd6: op = Op.SALC; break;
        case 0xd7: op = Op.XLAT; m = (a16 ? M_ADDR16 : 0); break;
        case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf:
          op = Op.FPU; hasModrm = true; aux = b & 7; break;
        case 0xe0: op = Op.LOOPNE; immKind = I_B; break;
        case 0xe1: op = Op.LOOPE; immKind = I_B; break;
        case 0xe2: op = Op.LOOP; immKind = I_B; break;
        case 0xe3: op = Op.JCXZ; immKind = I_B; break;
        case 0xe4: op = Op.IN_I; aux = 1; immKind = I_BU; break;
        case 0xe5: op = Op.IN_I; aux = op16 ? 2 : 4; immKind = I_BU; break;
        case 0xe6: op = Op.OUT_I; aux = 1; immKind = I_BU; break;
        case 0xe7: op = Op.OUT_I; aux = op16 ? 2 : 4; immKind = I_BU; break;
        case 0xe8: op = Op.CALL; immKind = I_Z; break;
        case 0xe9: op = Op.JMP; immKind = I_Z; break;
        case 0xea: op = Op.JMP_FAR; immKind = I_AP; break;
        case 0xeb: op = Op.JMP; immKind = I_B; break;
        case 0xec: op = Op.IN_DX; aux = 1; break;
        case 0xed: op = Op.IN_DX; aux = op16 ? 2 : 4; break;
        case 0xee: op = Op.OUT_DX; aux = 1; break;
        case 0xef: op = Op.OUT_DX; aux = op16 ? 2 : 4; break;
        case 0xf1: op = Op.INT1; break;
        case 0xf4: op = Op.HLT; break;
        case 0xf5: op = Op.CMC; break;
        case 0xf6: op = Op.TEST_EI8; hasModrm = true; aux = -5; break;
        case 0xf7: op = op16 ? Op.TEST_EI16 : Op.TEST_EI32; hasModrm = true; aux = -5; break;
        case 0xf8: op = Op.CLC; break;
        case 0xf9: op = Op.STC; break;
        case 0xfa: op = Op.CLI; break;
        case 0xfb: op = Op.STI; break;
        case 0xfc: op = Op.CLD; break;
        case 0xfd: op = Op.STD; break;
        case 0xfe: op = Op.INC8; hasModrm = true; aux = -6; break;
        case 0xff: op = op16 ? Op.INC16 : Op.INC32; hasModrm = true; aux = -7; break;
        default: op = Op.UD; break;
      }
    }
  } else {
    if (p >= limit) return -1;
    b = bytes[p++]!;
    switch (b) {
      case 0x00: op = Op.SLDT; hasModrm = true; aux = -8; break;
      case 0x01: op = Op.SGDT; hasModrm = true; aux = -9; break;
      case 0x02: op = Op.LAR; hasModrm = true; break;
      case 0x03: op = Op.LSL; hasModrm = true; break;
      case 0x06: op = Op.CLTS; break;
      case 0x08: op = Op.INVD; break;
      case 0x09: op = Op.WBINVD; break;
      case 0x0b: op = Op.UD; break;
      case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f:
        op = Op.NOP; hasModrm = true; break;
      case 0x20: op = Op.MOV_RC; hasModrm = true; aux = -10; break;
      case 0x21: op = Op.MOV_RD; hasModrm = true; aux = -10; break;
      case 0x22: op = Op.MOV_CR; hasModrm = true; aux = -10; break;
      case 0x23: op = Op.MOV_DR; hasModrm = true; aux = -10; break;
      case 0x30: op = Op.WRMSR; break;
      case 0x31: op = Op.RDTSC; break;
      case 0x32: op = Op.RDMSR; break;
      case 0x33: op = Op.RDPMC; break;
      case 0x34: op = Op.SYSENTER; break;
      case 0x35: op = Op.SYSEXIT; break;
      case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
      case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
        op = op16 ? Op.CMOV16 : Op.CMOV32; aux = b & 15; hasModrm = true; break;
      case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
      case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8c: case 0x8d: case 0x8e: case 0x8f:
        op = Op.JCC; aux = b & 15; immKind = I_Z; break;
      case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
      case 0x98: case 0x99: case 0x9a: case 0x9b: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
        op = Op.SETCC; aux = b & 15; hasModrm = true; break;
      case 0xa0: op = op16 ? Op.PUSH_SEG16 : Op.PUSH_SEG32; aux = 4; break;
      case 0xa1: op = op16 ? Op.POP_SEG16 : Op.POP_SEG32; aux = 4; break;
      case 0xa2: op = Op.CPUID; break;
      case 0xa3: op = op16 ? Op.BT16 : Op.BT32; aux = 0; hasModrm = true; break;
      case 0xa4: op = op16 ? Op.SHLD16 : Op.SHLD32; hasModrm = true; immKind = I_B; break;
      case 0xa5: op = op16 ? Op.SHLD16 : Op.SHLD32; hasModrm = true; aux = 8; break;
      case 0xa8: op = op16 ? Op.PUSH_SEG16 : Op.PUSH_SEG32; aux = 5; break;
      case 0xa9: op = op16 ? Op.POP_SEG16 : Op.POP_SEG32; aux = 5; break;
      case 0xaa: op = Op.RSM; break;
      case 0xab: op = op16 ? Op.BT16 : Op.BT32; aux = 1; hasModrm = true; lockable = true; break;
      case 0xac: op = op16 ? Op.SHRD16 : Op.SHRD32; hasModrm = true; immKind = I_B; break;
      case 0xad: op = op16 ? Op.SHRD16 : Op.SHRD32; hasModrm = true; aux = 8; break;
      case 0xae: op = Op.FXSAVE; hasModrm = true; aux = -11; break;
      case 0xaf: op = op16 ? Op.IMUL_GE16 : Op.IMUL_GE32; hasModrm = true; break;
      case 0xb0: op = Op.CMPXCHG8; hasModrm = true; lockable = true; break;
      case 0xb1: op = op16 ? Op.CMPXCHG16 : Op.CMPXCHG32; hasModrm = true; lockable = true; break;
      case 0xb2: op = op16 ? Op.LSEG16 : Op.LSEG32; aux = 2; hasModrm = true; memOnly = true; break;
      case 0xb3: op = op16 ? Op.BT16 : Op.BT32; aux = 2; hasModrm = true; lockable = true; break;
      case 0xb4: op = op16 ? Op.LSEG16 : Op.LSEG32; aux = 4; hasModrm = true; memOnly = true; break;
      case 0xb5: op = op16 ? Op.LSEG16 : Op.LSEG32; aux = 5; hasModrm = true; memOnly = true; break;
      case 0xb6: op = op16 ? Op.MOVZX8_16 : Op.MOVZX8_32; hasModrm = true; break;
      case 0xb7: op = op16 ? Op.MOV_GE16 : Op.MOVZX16_32; hasModrm = true; break;
      case 0xb9: op = Op.UD; hasModrm = true; break;
      case 0xba: op = op16 ? Op.BT16 : Op.BT32; hasModrm = true; immKind = I_B; aux = -12; break;
      case 0xbb: op = op16 ? Op.BT16 : Op.BT32; aux = 3; hasModrm = true; lockable = true; break;
      case 0xbc: op = op16 ? Op.BSF16 : Op.BSF32; hasModrm = true; break;
      case 0xbd: op = op16 ? Op.BSR16 : Op.BSR32; hasModrm = true; break;
      case 0xbe: op = op16 ? Op.MOVSX8_16 : Op.MOVSX8_32; hasModrm = true; break;
      case 0xbf: op = op16 ? Op.MOV_GE16 : Op.MOVSX16_32; hasModrm = true; break;
      case 0xc0: op = Op.XADD8; hasModrm = true; lockable = true; break;
      case 0xc1: op = op16 ? Op.XADD16 : Op.XADD32; hasModrm = true; lockable = true; break;
      case 0xc7: op = Op.CMPXCHG8B; hasModrm = true; aux = -13; lockable = true; break;
      case 0xc8: case 0xc9: case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf:
        op = Op.BSWAP; m = M_IS_REG | (b & 7) | ((b & 7) << 3); break;
      default: op = Op.UD; break;
    }
  }

  if (hasModrm && aux === -10) {
    // 0F 20-23 (MOV CR/DR): always register operands, no SIB or displacement whatever mod says
    if (p >= limit) return -1;
    rmByte = bytes[p++]!;
    m = ((rmByte >> 3) & 7) | ((rmByte & 7) << 3) | M_IS_REG;
    aux = 0;
  } else if (hasModrm) {
    p = modrm(bytes, p, limit, a16, seg);
    if (p < 0) return -1;
    m = rmM;
    disp = rmDisp;
    const reg = (rmByte >> 3) & 7;
    const isReg = (m & M_IS_REG) !== 0;
    if (memOnly && isReg) op = Op.UD;
    // Groups: the ModRM reg field selects the operation.
    switch (aux) {
      case -1: aux = reg; lockable = reg !== 7; break; // 80-83 ALU Ib/Iz
      case -2: aux = 0; if (reg !== 0) op = Op.UD; break; // 8F /0, C6/C7 /0
      case -3: aux = reg; break; // C0/C1/D0/D1 shift by imm or 1
      case -4: aux = reg | 8; break; // D2/D3 shift by CL
      case -5: // F6/F7 group 3
        switch (reg) {
          case 0: case 1: immKind = op === Op.TEST_EI8 ? I_B : I_Z; break;
          case 2: op = op === Op.TEST_EI8 ? Op.NOT8 : op16 ? Op.NOT16 : Op.NOT32; lockable = true; break;
          case 3: op = op === Op.TEST_EI8 ? Op.NEG8 : op16 ? Op.NEG16 : Op.NEG32; lockable = true; break;
          case 4: op = op === Op.TEST_EI8 ? Op.MUL8 : op16 ? Op.MUL16 : Op.MUL32; break;
          case 5: op = op === Op.TEST_EI8 ? Op.IMUL8 : op16 ? Op.IMUL16 : Op.IMUL32; break;
          case 6: op = op === Op.TEST_EI8 ? Op.DIV8 : op16 ? Op.DIV16 : Op.DIV32; break;
          default: op = op === Op.TEST_EI8 ? Op.IDIV8 : op16 ? Op.IDIV16 : Op.IDIV32; break;
        }
        aux = 0;
        break;
      case -6: // FE group 4
        if (reg === 0) op = Op.INC8;
        else if (reg === 1) op = Op.DEC8;
        else op = Op.UD;
        lockable = true;
        aux = 0;
        break;
      case -7: // FF group 5
        switch (reg) {
          case 0: op = op16 ? Op.INC16 : Op.INC32; lockable = true; break;
          case 1: op = op16 ? Op.DEC16 : Op.DEC32; lockable = true; break;
          case 2: op = Op.CALL_E; break;
          case 3: op = isReg ? Op.UD : Op.CALL_FAR_M; break;
          case 4: op = Op.JMP_E; break;
          case 5: op = isReg ? Op.UD : Op.JMP_FAR_M; break;
          case 6: op = op16 ? Op.PUSH16 : Op.PUSH32; break;
          default: op = Op.UD; break;
        }
        aux = 0;
        break;
      case -8: { // 0F 00 group 6
        const g6 = [Op.SLDT, Op.STR, Op.LLDT, Op.LTR, Op.VERR, Op.VERW, Op.UD, Op.UD];
        op = g6[reg]!;
        aux = 0;
        break;
      }
      case -9: { // 0F 01 group 7
        const g7 = [Op.SGDT, Op.SIDT, Op.LGDT, Op.LIDT, Op.SMSW, Op.UD, Op.LMSW, Op.INVLPG];
        op = g7[reg]!;
        if (isReg && reg !== 4 && reg !== 6) op = Op.UD;
        aux = 0;
        break;
      }
      case -11: // 0F AE group 15
        if (isReg) {
          op = reg === 5 || reg === 6 ? Op.SSE2_FENCE : reg === 7 ? Op.SSE_FENCE : Op.UD;
        } else {
          const g15 = [Op.FXSAVE, Op.FXRSTOR, Op.LDMXCSR, Op.STMXCSR, Op.UD, Op.UD, Op.UD, Op.CLFLUSH];
          op = g15[reg]!;
        }
        aux = 0;
        break;
      case -12: // 0F BA group 8
        if (reg < 4) op = Op.UD;
        aux = (reg & 3) | 4;
        lockable = (reg & 3) !== 0;
        break;
      case -13: // 0F C7 group 9
        if (reg !== 1 || isReg) op = Op.UD;
        aux = 0;
        break;
      default: break;
    }
    if (op === Op.FPU) imm = rmByte;
  } else if (seg >= 0 && (m & M_IS_REG) === 0 && op !== Op.XLAT) {
    // string ops, moffs: source segment override
    m = (m & ~(7 << 14)) | (seg << 14);
  } else if ((m & M_IS_REG) === 0 && op !== Op.XLAT) {
    m |= 3 << 14;
  }
  if (op === Op.XLAT) m |= (seg < 0 ? 3 : seg) << 14;

  switch (immKind) {
    case I_B:
      if (p + 1 > limit) return -1;
      imm = (bytes[p++]! << 24) >> 24;
      break;
    case I_BU:
      if (p + 1 > limit) return -1;
      imm = bytes[p++]!;
      break;
    case I_W:
      if (p + 2 > limit) return -1;
      imm = bytes[p]! | (bytes[p + 1]! << 8);
      p += 2;
      break;
    case I_Z:
      if (op16) {
        if (p + 2 > limit) return -1;
        imm = ((bytes[p]! | (bytes[p + 1]! << 8)) << 16) >> 16;
        p += 2;
      } else {
        if (p + 4 > limit) return -1;
        imm = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
        p += 4;
      }
      break;
    case I_WB:
      if (p + 3 > limit) return -1;
      imm = bytes[p]! | (bytes[p + 1]! << 8);
      imm2 = bytes[p + 2]!;
      p += 3;
      break;
    case I_AP:
      if (op16) {
        if (p + 4 > limit) return -1;
        imm = bytes[p]! | (bytes[p + 1]! << 8);
        imm2 = bytes[p + 2]! | (bytes[p + 3]! << 8);
        p += 4;
      } else {
        if (p + 6 > limit) return -1;
        imm = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
        imm2 = bytes[p + 4]! | (bytes[p + 5]! << 8);
        p += 6;
      }
      break;
    default:
      break;
  }
  if (p - start > MAX_INSN) return tooLong(c, k, start, p);
  if (lock && (!lockable || (m & M_IS_REG) !== 0)) op = Op.UD;

  m |= (op16 ? M_OP16 : 0) | (a16 ? M_ADDR16 : 0) | (rep === 1 ? M_REP : rep === 2 ? M_REPNE : 0) |
    (lock ? M_LOCK : 0) | (seg >= 0 ? M_SEGOVR : 0) | ((aux & 0xff) << 24);
  if (!hasModrm && (op === Op.MOV_GE8 || op === Op.MOV_GE16 || op === Op.MOV_GE32 ||
    op === Op.MOV_EG8 || op === Op.MOV_EG16 || op === Op.MOV_EG32) && (m & M_IS_REG) === 0) {
    // moffs forms: the register operand is AL/AX/EAX
    m &= ~7;
  }
  c.op[k] = op;
  c.len[k] = p - start;
  c.m[k] = m;
  c.disp[k] = disp;
  c.imm[k] = imm;
  c.imm2[k] = imm2;
  return p - start;
}

function tooLong(c: CodeCache, k: number, start: number, p: number): number {
  c.op[k] = Op.GP0;
  c.len[k] = Math.min(p - start, MAX_INSN);
  c.m[k] = 0;
  c.disp[k] = 0;
  c.imm[k] = 0;
  c.imm2[k] = 0;
  return c.len[k]!;
}

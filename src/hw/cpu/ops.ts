/**
 * Operation ids and the decoded-operand layout shared by the decoder and the interpreter.
 *
 * IMPORTANT for speed: the interpreter's dispatch switch (exec.ts) must use LITERAL case
 * labels -- V8 builds a jump table only for literal Smi cases, and esbuild inlines a const
 * enum only inside the file that declares it. So exec.ts writes `case 12 /* ALU_EG32 *\/`,
 * and ops.test.ts checks every such label against this table. Add new ops at the end.
 *
 * Decoded operand word `m` (CodeCache.m):
 *   bits 0-2   reg     ModRM.reg, or the register in the opcode's low bits
 *   bits 3-5   rm      ModRM.rm register (IS_REG), else the base register
 *   bits 6-8   index   SIB index register
 *   bits 9-10  scale
 *   bit 11     HAS_BASE    bit 12 HAS_INDEX    bit 13 IS_REG (mod = 3)
 *   bits 14-16 seg     effective segment of the memory operand / string source
 *   bit 17     ADDR16  16-bit addressing (EA wraps at 64 KiB; string ops use SI/DI/CX)
 *   bit 18     OP16    16-bit operand size
 *   bit 19     REP (F3)   bit 20 REPNE (F2)   bit 21 LOCK   bit 22 SEG_OVERRIDE
 *   bits 24-31 aux     per-op: ALU op, condition code, sreg, shift op, port size, ...
 * `disp` is the displacement (or moffs), `imm` the immediate (sign-extended where the
 * encoding sign-extends), `imm2` a second immediate (far selector, ENTER nesting level).
 */
export const M_HAS_BASE = 0x800;
export const M_HAS_INDEX = 0x1000;
export const M_IS_REG = 0x2000;
export const M_SEG_SHIFT = 14;
export const M_ADDR16 = 0x20000;
export const M_OP16 = 0x40000;
export const M_REP = 0x80000;
export const M_REPNE = 0x100000;
export const M_LOCK = 0x200000;
export const M_SEGOVR = 0x400000;
export const M_AUX_SHIFT = 24;

export const Op = {
  UD: 0, STOP: 1, NOP: 2, GP0: 3,
  ALU_EG8: 4, ALU_EG16: 5, ALU_EG32: 6, ALU_GE8: 7, ALU_GE16: 8, ALU_GE32: 9, ALU_EI8: 10, ALU_EI16: 11, ALU_EI32: 12,
  TEST_EG8: 13, TEST_EG16: 14, TEST_EG32: 15, TEST_EI8: 16, TEST_EI16: 17, TEST_EI32: 18,
  INC8: 19, INC16: 20, INC32: 21, DEC8: 22, DEC16: 23, DEC32: 24,
  NOT8: 25, NOT16: 26, NOT32: 27, NEG8: 28, NEG16: 29, NEG32: 30,
  MUL8: 31, MUL16: 32, MUL32: 33, IMUL8: 34, IMUL16: 35, IMUL32: 36,
  DIV8: 37, DIV16: 38, DIV32: 39, IDIV8: 40, IDIV16: 41, IDIV32: 42,
  IMUL_GE16: 43, IMUL_GE32: 44, IMUL_GEI16: 45, IMUL_GEI32: 46,
  SHIFT8: 47, SHIFT16: 48, SHIFT32: 49, SHLD16: 50, SHLD32: 51, SHRD16: 52, SHRD32: 53,
  BT16: 54, BT32: 55, BSF16: 56, BSF32: 57, BSR16: 58, BSR32: 59,
  DAA: 60, DAS: 61, AAA: 62, AAS: 63, AAM: 64, AAD: 65, SALC: 66,
  CBW: 67, CWDE: 68, CWD: 69, CDQ: 70,
  CMC: 71, CLC: 72, STC: 73, CLD: 74, STD: 75, CLI: 76, STI: 77, SAHF: 78, LAHF: 79,
  LEA16: 80, LEA32: 81,
  MOV_EG8: 82, MOV_EG16: 83, MOV_EG32: 84, MOV_GE8: 85, MOV_GE16: 86, MOV_GE32: 87,
  MOV_EI8: 88, MOV_EI16: 89, MOV_EI32: 90, MOV_ES: 91, MOV_SE: 92,
  MOVZX8_16: 93, MOVZX8_32: 94, MOVZX16_32: 95, MOVSX8_16: 96, MOVSX8_32: 97, MOVSX16_32: 98,
  XCHG8: 99, XCHG16: 100, XCHG32: 101, CMOV16: 102, CMOV32: 103, SETCC: 104, BSWAP: 105,
  XADD8: 106, XADD16: 107, XADD32: 108, CMPXCHG8: 109, CMPXCHG16: 110, CMPXCHG32: 111, CMPXCHG8B: 112,
  PUSH16: 113, PUSH32: 114, PUSH_I16: 115, PUSH_I32: 116, POP16: 117, POP32: 118,
  PUSH_SEG16: 119, PUSH_SEG32: 120, POP_SEG16: 121, POP_SEG32: 122,
  PUSHA16: 123, PUSHA32: 124, POPA16: 125, POPA32: 126, PUSHF16: 127, PUSHF32: 128, POPF16: 129, POPF32: 130,
  ENTER16: 131, ENTER32: 132, LEAVE16: 133, LEAVE32: 134, LSEG16: 135, LSEG32: 136, XLAT: 137,
  MOVS8: 138, MOVS16: 139, MOVS32: 140, CMPS8: 141, CMPS16: 142, CMPS32: 143, STOS8: 144, STOS16: 145, STOS32: 146,
  LODS8: 147, LODS16: 148, LODS32: 149, SCAS8: 150, SCAS16: 151, SCAS32: 152,
  INS8: 153, INS16: 154, INS32: 155, OUTS8: 156, OUTS16: 157, OUTS32: 158,
  BOUND16: 159, BOUND32: 160, ARPL: 161,
  JMP: 162, JCC: 163, JCXZ: 164, LOOP: 165, LOOPE: 166, LOOPNE: 167, CALL: 168, RET: 169,
  JMP_E: 170, CALL_E: 171, JMP_FAR: 172, CALL_FAR: 173, JMP_FAR_M: 174, CALL_FAR_M: 175, RETF: 176, IRET: 177,
  INT: 178, INT3: 179, INTO: 180, INT1: 181, HLT: 182,
  IN_I: 183, IN_DX: 184, OUT_I: 185, OUT_DX: 186,
  SLDT: 187, STR: 188, LLDT: 189, LTR: 190, VERR: 191, VERW: 192, SGDT: 193, SIDT: 194, LGDT: 195, LIDT: 196,
  SMSW: 197, LMSW: 198, INVLPG: 199, LAR: 200, LSL: 201, CLTS: 202, INVD: 203, WBINVD: 204,
  MOV_RC: 205, MOV_CR: 206, MOV_RD: 207, MOV_DR: 208, WRMSR: 209, RDTSC: 210, RDMSR: 211, RDPMC: 212,
  SYSENTER: 213, SYSEXIT: 214, CPUID: 215,
  FPU: 216, FWAIT: 217, FXSAVE: 218, FXRSTOR: 219, LDMXCSR: 220, STMXCSR: 221, SSE2_FENCE: 222, SSE_FENCE: 223,
  CLFLUSH: 224, RSM: 225,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];
export const OP_COUNT = 226;

export const OP_NAMES: readonly string[] = (() => {
  const n: string[] = [];
  for (const [k, v] of Object.entries(Op)) n[v] = k;
  return n;
})();

/**
 * Ops after which a block must end: control transfers, and instructions that change what
 * decoding, segment state or interrupt recognition depend on. (Ops that only sometimes
 * leave the block -- REP string ops, I/O -- return a status instead.)
 */
export const ENDS_BLOCK = new Uint8Array(OP_COUNT);
for (const o of [
  Op.UD, Op.STOP, Op.GP0, Op.STI, Op.MOV_SE, Op.POP_SEG16, Op.POP_SEG32, Op.LSEG16, Op.LSEG32, Op.POPF16, Op.POPF32,
  Op.JMP, Op.JCC, Op.JCXZ, Op.LOOP, Op.LOOPE, Op.LOOPNE, Op.CALL, Op.RET, Op.JMP_E, Op.CALL_E, Op.JMP_FAR,
  Op.CALL_FAR, Op.JMP_FAR_M, Op.CALL_FAR_M, Op.RETF, Op.IRET, Op.INT, Op.INT3, Op.INTO, Op.INT1, Op.HLT,
  Op.IN_I, Op.IN_DX, Op.OUT_I, Op.OUT_DX, Op.INS8, Op.INS16, Op.INS32, Op.OUTS8, Op.OUTS16, Op.OUTS32,
  Op.LMSW, Op.CLTS, Op.INVLPG, Op.MOV_CR, Op.MOV_DR, Op.WRMSR, Op.SYSENTER, Op.SYSEXIT, Op.RSM, Op.BOUND16,
  Op.BOUND32, Op.LLDT, Op.LTR, Op.LGDT, Op.LIDT, Op.FXRSTOR,
]) ENDS_BLOCK[o] = 1;

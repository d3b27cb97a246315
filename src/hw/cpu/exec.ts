/**
 * The interpreter: runs one decoded block (code_cache.ts) on a Cpu.
 *
 * Dispatch is one `switch` on the op id with LITERAL case labels (see ops.ts: V8 builds a
 * jump table only for literal cases); ops.test.ts checks each `case N /* NAME *\/` label
 * against ops.ts. The function must stay under V8's 60 KB optimizable bytecode limit
 * (CPU-PERF rule 7; exec_opt.test.ts checks it is optimized): simple, hot forms are inline,
 * everything else calls out.
 *
 * Contract per instruction i:
 *  - `eip` (a local) is the instruction's first byte; `next` the byte after it. Out-of-line
 *    handlers that may fault or need EIP get `cpu.eip = eip` first.
 *  - Falling out of the switch retires the instruction and continues with `next`.
 *  - `break run` after `i++` and with `eip` set ends the block after retiring it (control
 *    transfers, mode changes). `break run` without `i++` ends it before the instruction
 *    (OP STOP after self-modifying code, a REP instruction that is not finished).
 *  - A fault thrown by anything propagates after `cpu.eip = eip` and the retired count are
 *    written back (catch below): EIP is then the faulting instruction.
 */
import type { Cpu } from './cpu.ts';
import { v86IntN } from './vme.ts';
import { EV_STEP } from './cpu.ts';
import { raise } from './fault.ts';
import { getCF, getZF, getOF, getEflags, testCC, materialize, K_ADD, K_SUB, LAZY_ALL } from './flags.ts';
import {
  alu, testOp, incDec, neg, shift, shiftDouble, mul1, imul2, div1, bitScan, daa, das, aaa, aam, aad,
} from './alu.ts';
import {
  ea, r8, readE8, readE16, readE32, writeE8, writeE16, rmwE8, rmwE16, rmwE32, doneE8, doneE16, doneE32,
} from './operands.ts';
import { rd8, rd16, rd32, wr16, wr32, push16, push32, pop32, peek16, peek32, adjustSp, rmw32, rmwDone32 } from './mem.ts';
import { loadSeg } from './seg.ts';
import {
  pusha, popa, pushf, popf, popE, pushSeg, popSeg, enter, leave, loadFarPointer,
} from './stack_ops.ts';
import { stringOp, S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS, S_INS, S_OUTS } from './string.ts';
import { jmpFar, callFar, retFar, iret, sysenter, sysexit } from './ctrl.ts';
import { deliverEvent, EK_SOFT, EK_SOFTEXC, EK_ICEBP } from './intr.ts';
import { doIn, doOut } from './io.ts';
import {
  movToCr, movFromCr, movToDr, movFromDr, lmsw, smsw, clts, lgdtLidt, sgdtSidt, sldtStr, lldtLtr, larLsl,
  verrVerw, arpl, invlpg, invdWbinvd, rdmsr, wrmsr, rdtsc, rdpmc, cpuid, hlt, cliSti, fpuEsc, fwait, fxsaveRstor,
  sseOnly, sysenterExit,
} from './sys.ts';
import { ExecMode } from './exit.ts';
import { btOp, cmpxchg8b, bound } from './exec_ops.ts';

/** Run block instructions [first, first + count) of the CodeCache pool. */
export function execBlock(cpu: Cpu, first: number, count: number): void {
  const c = cpu.cache;
  const OPS = c.op, MS = c.m, DS = c.disp, IMS = c.imm, LENS = c.len;
  const regs = cpu.regs;
  let eip = cpu.eip;
  let i = first;
  const end = first + count;
  try {
    run: for (; i < end; i++) {
      const m = MS[i]!;
      const next = (eip + LENS[i]!) | 0;
      switch (OPS[i]!) {
        case 0 /* UD */: raise(cpu, 6, -1); break;
        case 1 /* STOP */: break run;
        case 2 /* NOP */: break;
        case 3 /* GP0 */: raise(cpu, 13, 0); break;

        // ---------------------------------------------------------------- ALU
        case 4 /* ALU_EG8 */: {
          const aop = m >>> 24;
          const g = cpu.regs8[r8(m & 7)]!;
          if (aop === 7) alu(cpu, 7, readE8(cpu, m, DS[i]!), g, 8);
          else doneE8(cpu, m, alu(cpu, aop, rmwE8(cpu, m, DS[i]!), g, 8));
          break;
        }
        case 5 /* ALU_EG16 */: {
          const aop = m >>> 24;
          const g = cpu.regs16[(m & 7) << 1]!;
          if (aop === 7) alu(cpu, 7, readE16(cpu, m, DS[i]!), g, 16);
          else doneE16(cpu, m, alu(cpu, aop, rmwE16(cpu, m, DS[i]!), g, 16));
          break;
        }
        case 6 /* ALU_EG32 */: {
          const aop = m >>> 24;
          const b = regs[m & 7]!;
          if ((m & 0x2000) !== 0) {
            const d = (m >> 3) & 7;
            const a = regs[d]!;
            switch (aop) {
              case 0: { const r = (a + b) | 0; cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = r; cpu.fKind = K_ADD; cpu.lazy = LAZY_ALL; regs[d] = r; break; }
              case 5: { const r = (a - b) | 0; cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = r; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL; regs[d] = r; break; }
              case 7: cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = (a - b) | 0; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL; break;
              case 6: { const r = a ^ b; cpu.flags &= ~0x811; cpu.fRes = r; cpu.lazy = 0xc4; regs[d] = r; break; }
              case 4: { const r = a & b; cpu.flags &= ~0x811; cpu.fRes = r; cpu.lazy = 0xc4; regs[d] = r; break; }
              case 1: { const r = a | b; cpu.flags &= ~0x811; cpu.fRes = r; cpu.lazy = 0xc4; regs[d] = r; break; }
              default: regs[d] = alu(cpu, aop, a, b, 32); break;
            }
          } else if (aop === 7) {
            const a = rd32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!));
            cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = (a - b) | 0; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL;
          } else {
            rmwDone32(cpu, alu(cpu, aop, rmw32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!)), b, 32));
          }
          break;
        }
        case 7 /* ALU_GE8 */: {
          const aop = m >>> 24;
          const r = alu(cpu, aop, cpu.regs8[r8(m & 7)]!, readE8(cpu, m, DS[i]!), 8);
          if (aop !== 7) cpu.regs8[r8(m & 7)] = r;
          break;
        }
        case 8 /* ALU_GE16 */: {
          const aop = m >>> 24;
          const r = alu(cpu, aop, cpu.regs16[(m & 7) << 1]!, readE16(cpu, m, DS[i]!), 16);
          if (aop !== 7) cpu.regs16[(m & 7) << 1] = r;
          break;
        }
        case 9 /* ALU_GE32 */: {
          const aop = m >>> 24;
          const d = m & 7;
          const a = regs[d]!;
          const b = (m & 0x2000) !== 0 ? regs[(m >> 3) & 7]! : rd32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!));
          switch (aop) {
            case 0: { const r = (a + b) | 0; cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = r; cpu.fKind = K_ADD; cpu.lazy = LAZY_ALL; regs[d] = r; break; }
            case 5: { const r = (a - b) | 0; cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = r; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL; regs[d] = r; break; }
            case 7: cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = (a - b) | 0; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL; break;
            case 6: { const r = a ^ b; cpu.flags &= ~0x811; cpu.fRes = r; cpu.lazy = 0xc4; regs[d] = r; break; }
            case 4: { const r = a & b; cpu.flags &= ~0x811; cpu.fRes = r; cpu.lazy = 0xc4; regs[d] = r; break; }
            case 1: { const r = a | b; cpu.flags &= ~0x811; cpu.fRes = r; cpu.lazy = 0xc4; regs[d] = r; break; }
            default: regs[d] = alu(cpu, aop, a, b, 32); break;
          }
          break;
        }
        case 10 /* ALU_EI8 */: {
          const aop = m >>> 24;
          if (aop === 7) alu(cpu, 7, readE8(cpu, m, DS[i]!), IMS[i]!, 8);
          else doneE8(cpu, m, alu(cpu, aop, rmwE8(cpu, m, DS[i]!), IMS[i]!, 8));
          break;
        }
        case 11 /* ALU_EI16 */: {
          const aop = m >>> 24;
          if (aop === 7) alu(cpu, 7, readE16(cpu, m, DS[i]!), IMS[i]!, 16);
          else doneE16(cpu, m, alu(cpu, aop, rmwE16(cpu, m, DS[i]!), IMS[i]!, 16));
          break;
        }
        case 12 /* ALU_EI32 */: {
          const aop = m >>> 24;
          const b = IMS[i]!;
          if ((m & 0x2000) !== 0) {
            const d = (m >> 3) & 7;
            const a = regs[d]!;
            switch (aop) {
              case 0: { const r = (a + b) | 0; cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = r; cpu.fKind = K_ADD; cpu.lazy = LAZY_ALL; regs[d] = r; break; }
              case 5: { const r = (a - b) | 0; cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = r; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL; regs[d] = r; break; }
              case 7: cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = (a - b) | 0; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL; break;
              case 4: { const r = a & b; cpu.flags &= ~0x811; cpu.fRes = r; cpu.lazy = 0xc4; regs[d] = r; break; }
              default: regs[d] = alu(cpu, aop, a, b, 32); break;
            }
          } else if (aop === 7) {
            const a = rd32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!));
            cpu.fOp1 = a; cpu.fOp2 = b; cpu.fRes = (a - b) | 0; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL;
          } else {
            rmwDone32(cpu, alu(cpu, aop, rmw32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!)), b, 32));
          }
          break;
        }
        case 13 /* TEST_EG8 */: testOp(cpu, readE8(cpu, m, DS[i]!), cpu.regs8[r8(m & 7)]!, 8); break;
        case 14 /* TEST_EG16 */: testOp(cpu, readE16(cpu, m, DS[i]!), cpu.regs16[(m & 7) << 1]!, 16); break;
        case 15 /* TEST_EG32 */: {
          const a = (m & 0x2000) !== 0 ? regs[(m >> 3) & 7]! : rd32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!));
          cpu.flags &= ~0x811; cpu.fRes = a & regs[m & 7]!; cpu.lazy = 0xc4;
          break;
        }
        case 16 /* TEST_EI8 */: testOp(cpu, readE8(cpu, m, DS[i]!), IMS[i]!, 8); break;
        case 17 /* TEST_EI16 */: testOp(cpu, readE16(cpu, m, DS[i]!), IMS[i]!, 16); break;
        case 18 /* TEST_EI32 */: {
          const a = (m & 0x2000) !== 0 ? regs[(m >> 3) & 7]! : rd32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!));
          cpu.flags &= ~0x811; cpu.fRes = a & IMS[i]!; cpu.lazy = 0xc4;
          break;
        }
        case 19 /* INC8 */: doneE8(cpu, m, incDec(cpu, rmwE8(cpu, m, DS[i]!), false, 8)); break;
        case 20 /* INC16 */: doneE16(cpu, m, incDec(cpu, rmwE16(cpu, m, DS[i]!), false, 16)); break;
        case 21 /* INC32 */: {
          if ((m & 0x2000) !== 0) {
            const d = (m >> 3) & 7;
            const a = regs[d]!;
            const r = (a + 1) | 0;
            if ((cpu.lazy & 1) !== 0) { cpu.flags = (cpu.flags & ~1) | getCF(cpu); }
            cpu.fOp1 = a; cpu.fOp2 = 1; cpu.fRes = r; cpu.fKind = K_ADD; cpu.lazy = 0x8d4; regs[d] = r;
          } else doneE32(cpu, m, incDec(cpu, rmwE32(cpu, m, DS[i]!), false, 32));
          break;
        }
        case 22 /* DEC8 */: doneE8(cpu, m, incDec(cpu, rmwE8(cpu, m, DS[i]!), true, 8)); break;
        case 23 /* DEC16 */: doneE16(cpu, m, incDec(cpu, rmwE16(cpu, m, DS[i]!), true, 16)); break;
        case 24 /* DEC32 */: {
          if ((m & 0x2000) !== 0) {
            const d = (m >> 3) & 7;
            const a = regs[d]!;
            const r = (a - 1) | 0;
            if ((cpu.lazy & 1) !== 0) { cpu.flags = (cpu.flags & ~1) | getCF(cpu); }
            cpu.fOp1 = a; cpu.fOp2 = 1; cpu.fRes = r; cpu.fKind = K_SUB; cpu.lazy = 0x8d4; regs[d] = r;
          } else doneE32(cpu, m, incDec(cpu, rmwE32(cpu, m, DS[i]!), true, 32));
          break;
        }
        case 25 /* NOT8 */: doneE8(cpu, m, ~rmwE8(cpu, m, DS[i]!) & 0xff); break;
        case 26 /* NOT16 */: doneE16(cpu, m, ~rmwE16(cpu, m, DS[i]!) & 0xffff); break;
        case 27 /* NOT32 */: doneE32(cpu, m, ~rmwE32(cpu, m, DS[i]!)); break;
        case 28 /* NEG8 */: doneE8(cpu, m, neg(cpu, rmwE8(cpu, m, DS[i]!), 8)); break;
        case 29 /* NEG16 */: doneE16(cpu, m, neg(cpu, rmwE16(cpu, m, DS[i]!), 16)); break;
        case 30 /* NEG32 */: doneE32(cpu, m, neg(cpu, rmwE32(cpu, m, DS[i]!), 32)); break;
        case 31 /* MUL8 */: mul1(cpu, readE8(cpu, m, DS[i]!), false, 8); break;
        case 32 /* MUL16 */: mul1(cpu, readE16(cpu, m, DS[i]!), false, 16); break;
        case 33 /* MUL32 */: mul1(cpu, readE32(cpu, m, DS[i]!), false, 32); break;
        case 34 /* IMUL8 */: mul1(cpu, readE8(cpu, m, DS[i]!), true, 8); break;
        case 35 /* IMUL16 */: mul1(cpu, readE16(cpu, m, DS[i]!), true, 16); break;
        case 36 /* IMUL32 */: mul1(cpu, readE32(cpu, m, DS[i]!), true, 32); break;
        case 37 /* DIV8 */: div1(cpu, readE8(cpu, m, DS[i]!), false, 8); break;
        case 38 /* DIV16 */: div1(cpu, readE16(cpu, m, DS[i]!), false, 16); break;
        case 39 /* DIV32 */: div1(cpu, readE32(cpu, m, DS[i]!), false, 32); break;
        case 40 /* IDIV8 */: div1(cpu, readE8(cpu, m, DS[i]!), true, 8); break;
        case 41 /* IDIV16 */: div1(cpu, readE16(cpu, m, DS[i]!), true, 16); break;
        case 42 /* IDIV32 */: div1(cpu, readE32(cpu, m, DS[i]!), true, 32); break;
        case 43 /* IMUL_GE16 */: cpu.regs16[(m & 7) << 1] = imul2(cpu, cpu.regs16[(m & 7) << 1]!, readE16(cpu, m, DS[i]!), 16); break;
        case 44 /* IMUL_GE32 */: regs[m & 7] = imul2(cpu, regs[m & 7]!, readE32(cpu, m, DS[i]!), 32); break;
        case 45 /* IMUL_GEI16 */: cpu.regs16[(m & 7) << 1] = imul2(cpu, readE16(cpu, m, DS[i]!), IMS[i]!, 16); break;
        case 46 /* IMUL_GEI32 */: regs[m & 7] = imul2(cpu, readE32(cpu, m, DS[i]!), IMS[i]!, 32); break;
        case 47 /* SHIFT8 */: {
          const aux = m >>> 24;
          const cnt = (aux & 8) !== 0 ? cpu.regs8[4]! : IMS[i]!;
          const v = rmwE8(cpu, m, DS[i]!);
          if ((cnt & 0x1f) !== 0) doneE8(cpu, m, shift(cpu, aux & 7, v, cnt, 8));
          break;
        }
        case 48 /* SHIFT16 */: {
          const aux = m >>> 24;
          const cnt = (aux & 8) !== 0 ? cpu.regs8[4]! : IMS[i]!;
          const v = rmwE16(cpu, m, DS[i]!);
          if ((cnt & 0x1f) !== 0) doneE16(cpu, m, shift(cpu, aux & 7, v, cnt, 16));
          break;
        }
        case 49 /* SHIFT32 */: {
          const aux = m >>> 24;
          const cnt = (aux & 8) !== 0 ? cpu.regs8[4]! : IMS[i]!;
          const v = rmwE32(cpu, m, DS[i]!);
          if ((cnt & 0x1f) !== 0) doneE32(cpu, m, shift(cpu, aux & 7, v, cnt, 32));
          break;
        }
        case 50 /* SHLD16 */: case 52 /* SHRD16 */: {
          const cnt = ((m >>> 24) & 8) !== 0 ? cpu.regs8[4]! : IMS[i]!;
          const v = rmwE16(cpu, m, DS[i]!);
          if ((cnt & 0x1f) !== 0) doneE16(cpu, m, shiftDouble(cpu, OPS[i] === 50 /* SHLD16 */, v, cpu.regs16[(m & 7) << 1]!, cnt, 16));
          break;
        }
        case 51 /* SHLD32 */: case 53 /* SHRD32 */: {
          const cnt = ((m >>> 24) & 8) !== 0 ? cpu.regs8[4]! : IMS[i]!;
          const v = rmwE32(cpu, m, DS[i]!);
          if ((cnt & 0x1f) !== 0) doneE32(cpu, m, shiftDouble(cpu, OPS[i] === 51 /* SHLD32 */, v, regs[m & 7]!, cnt, 32));
          break;
        }
        case 54 /* BT16 */: case 55 /* BT32 */: btOp(cpu, i, m, OPS[i] === 54 /* BT16 */ ? 16 : 32); break;
        case 56 /* BSF16 */: cpu.regs16[(m & 7) << 1] = bitScan(cpu, readE16(cpu, m, DS[i]!), cpu.regs16[(m & 7) << 1]!, false, 16); break;
        case 57 /* BSF32 */: regs[m & 7] = bitScan(cpu, readE32(cpu, m, DS[i]!), regs[m & 7]!, false, 32); break;
        case 58 /* BSR16 */: cpu.regs16[(m & 7) << 1] = bitScan(cpu, readE16(cpu, m, DS[i]!), cpu.regs16[(m & 7) << 1]!, true, 16); break;
        case 59 /* BSR32 */: regs[m & 7] = bitScan(cpu, readE32(cpu, m, DS[i]!), regs[m & 7]!, true, 32); break;
        case 60 /* DAA */: daa(cpu); break;
        case 61 /* DAS */: das(cpu); break;
        case 62 /* AAA */: aaa(cpu, false); break;
        case 63 /* AAS */: aaa(cpu, true); break;
        case 64 /* AAM */: aam(cpu, IMS[i]!); break;
        case 65 /* AAD */: aad(cpu, IMS[i]!); break;
        case 66 /* SALC */: cpu.regs8[0] = getCF(cpu) !== 0 ? 0xff : 0; break;
        case 67 /* CBW */: cpu.regs16[0] = (cpu.regs8[0]! << 24) >> 24; break;
        case 68 /* CWDE */: regs[0] = (regs[0]! << 16) >> 16; break;
        case 69 /* CWD */: cpu.regs16[4] = (regs[0]! & 0x8000) !== 0 ? 0xffff : 0; break;
        case 70 /* CDQ */: regs[2] = regs[0]! >> 31; break;
        case 71 /* CMC */: { const cf = getCF(cpu); cpu.flags = (cpu.flags & ~1) | (cf ^ 1); cpu.lazy &= ~1; break; }
        case 72 /* CLC */: cpu.flags &= ~1; cpu.lazy &= ~1; break;
        case 73 /* STC */: cpu.flags |= 1; cpu.lazy &= ~1; break;
        case 74 /* CLD */: cpu.flags &= ~0x400; break;
        case 75 /* STD */: cpu.flags |= 0x400; break;
        case 76 /* CLI */: cpu.eip = eip; cliSti(cpu, i, false); break;
        case 77 /* STI */: cpu.eip = eip; cliSti(cpu, i, true); eip = cpu.eip; i++; break run;
        case 78 /* SAHF */: materialize(cpu); cpu.flags = (cpu.flags & ~0xd5) | (cpu.regs8[1]! & 0xd5); break;
        case 79 /* LAHF */: cpu.regs8[1] = (getEflags(cpu) & 0xd5) | 2; break;
        case 80 /* LEA16 */: cpu.regs16[(m & 7) << 1] = ea(cpu, m, DS[i]!); break;
        case 81 /* LEA32 */: regs[m & 7] = ea(cpu, m, DS[i]!); break;

        // ---------------------------------------------------------------- moves
        case 82 /* MOV_EG8 */: writeE8(cpu, m, DS[i]!, cpu.regs8[r8(m & 7)]!); break;
        case 83 /* MOV_EG16 */: writeE16(cpu, m, DS[i]!, cpu.regs16[(m & 7) << 1]!); break;
        case 84 /* MOV_EG32 */:
          if ((m & 0x2000) !== 0) regs[(m >> 3) & 7] = regs[m & 7]!;
          else wr32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!), regs[m & 7]!);
          break;
        case 85 /* MOV_GE8 */: cpu.regs8[r8(m & 7)] = readE8(cpu, m, DS[i]!); break;
        case 86 /* MOV_GE16 */: cpu.regs16[(m & 7) << 1] = readE16(cpu, m, DS[i]!); break;
        case 87 /* MOV_GE32 */:
          regs[m & 7] = (m & 0x2000) !== 0 ? regs[(m >> 3) & 7]! : rd32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!));
          break;
        case 88 /* MOV_EI8 */: writeE8(cpu, m, DS[i]!, IMS[i]!); break;
        case 89 /* MOV_EI16 */: writeE16(cpu, m, DS[i]!, IMS[i]!); break;
        case 90 /* MOV_EI32 */:
          if ((m & 0x2000) !== 0) regs[(m >> 3) & 7] = IMS[i]!;
          else wr32(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!), IMS[i]!);
          break;
        case 91 /* MOV_ES */: {
          const s = m & 7;
          if (s > 5) raise(cpu, 6, -1);
          const v = cpu.segSel[s]! & 0xffff;
          if ((m & 0x2000) !== 0) {
            if ((m & 0x40000) !== 0) cpu.regs16[((m >> 3) & 7) << 1] = v;
            else regs[(m >> 3) & 7] = v;
          } else wr16(cpu, (m >> 14) & 7, ea(cpu, m, DS[i]!), v);
          break;
        }
        case 92 /* MOV_SE */: {
          const s = m & 7;
          if (s === 1 || s > 5) raise(cpu, 6, -1);
          cpu.eip = eip;
          loadSeg(cpu, s, readE16(cpu, m, DS[i]!));
          if (s === 2) { cpu.intShadow = 2; cpu.pendingEvents |= EV_STEP; }
          eip = next; i++; break run;
        }
        case 93 /* MOVZX8_16 */: cpu.regs16[(m & 7) << 1] = readE8(cpu, m, DS[i]!); break;
        case 94 /* MOVZX8_32 */: regs[m & 7] = readE8(cpu, m, DS[i]!); break;
        case 95 /* MOVZX16_32 */: regs[m & 7] = readE16(cpu, m, DS[i]!); break;
        case 96 /* MOVSX8_16 */: cpu.regs16[(m & 7) << 1] = (readE8(cpu, m, DS[i]!) << 24) >> 24; break;
        case 97 /* MOVSX8_32 */: regs[m & 7] = (readE8(cpu, m, DS[i]!) << 24) >> 24; break;
        case 98 /* MOVSX16_32 */: regs[m & 7] = (readE16(cpu, m, DS[i]!) << 16) >> 16; break;
        case 99 /* XCHG8 */: { const v = rmwE8(cpu, m, DS[i]!); doneE8(cpu, m, cpu.regs8[r8(m & 7)]!); cpu.regs8[r8(m & 7)] = v; break; }
        case 100 /* XCHG16 */: { const v = rmwE16(cpu, m, DS[i]!); doneE16(cpu, m, cpu.regs16[(m & 7) << 1]!); cpu.regs16[(m & 7) << 1] = v; break; }
        case 101 /* XCHG32 */: { const v = rmwE32(cpu, m, DS[i]!); doneE32(cpu, m, regs[m & 7]!); regs[m & 7] = v; break; }
        case 102 /* CMOV16 */: { const v = readE16(cpu, m, DS[i]!); if (testCC(cpu, m >>> 24)) cpu.regs16[(m & 7) << 1] = v; break; }
        case 103 /* CMOV32 */: { const v = readE32(cpu, m, DS[i]!); if (testCC(cpu, m >>> 24)) regs[m & 7] = v; break; }
        case 104 /* SETCC */: writeE8(cpu, m, DS[i]!, testCC(cpu, m >>> 24) ? 1 : 0); break;
        case 105 /* BSWAP */: {
          const r = m & 7;
          if ((m & 0x40000) !== 0) cpu.regs16[r << 1] = 0;
          else { const v = regs[r]!; regs[r] = (v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); }
          break;
        }
        case 106 /* XADD8 */: { const v = rmwE8(cpu, m, DS[i]!); const s = alu(cpu, 0, v, cpu.regs8[r8(m & 7)]!, 8); cpu.regs8[r8(m & 7)] = v; doneE8(cpu, m, s); break; }
        case 107 /* XADD16 */: { const v = rmwE16(cpu, m, DS[i]!); const s = alu(cpu, 0, v, cpu.regs16[(m & 7) << 1]!, 16); cpu.regs16[(m & 7) << 1] = v; doneE16(cpu, m, s); break; }
        case 108 /* XADD32 */: { const v = rmwE32(cpu, m, DS[i]!); const s = alu(cpu, 0, v, regs[m & 7]!, 32); regs[m & 7] = v; doneE32(cpu, m, s); break; }
        case 109 /* CMPXCHG8 */: {
          const v = rmwE8(cpu, m, DS[i]!);
          alu(cpu, 7, cpu.regs8[0]!, v, 8);
          if (getZF(cpu)) doneE8(cpu, m, cpu.regs8[r8(m & 7)]!);
          else { doneE8(cpu, m, v); cpu.regs8[0] = v; }
          break;
        }
        case 110 /* CMPXCHG16 */: {
          const v = rmwE16(cpu, m, DS[i]!);
          alu(cpu, 7, cpu.regs16[0]!, v, 16);
          if (getZF(cpu)) doneE16(cpu, m, cpu.regs16[(m & 7) << 1]!);
          else { doneE16(cpu, m, v); cpu.regs16[0] = v; }
          break;
        }
        case 111 /* CMPXCHG32 */: {
          const v = rmwE32(cpu, m, DS[i]!);
          alu(cpu, 7, regs[0]!, v, 32);
          if (getZF(cpu)) doneE32(cpu, m, regs[m & 7]!);
          else { doneE32(cpu, m, v); regs[0] = v; }
          break;
        }
        case 112 /* CMPXCHG8B */: cmpxchg8b(cpu, m, DS[i]!); break;

        // ---------------------------------------------------------------- stack
        case 113 /* PUSH16 */: push16(cpu, readE16(cpu, m, DS[i]!)); break;
        case 114 /* PUSH32 */: push32(cpu, readE32(cpu, m, DS[i]!)); break;
        case 115 /* PUSH_I16 */: push16(cpu, IMS[i]!); break;
        case 116 /* PUSH_I32 */: push32(cpu, IMS[i]!); break;
        case 117 /* POP16 */: popE(cpu, m, DS[i]!, true); break;
        case 118 /* POP32 */:
          if ((m & 0x2000) !== 0) { const v = pop32(cpu); regs[(m >> 3) & 7] = v; }
          else popE(cpu, m, DS[i]!, false);
          break;
        case 119 /* PUSH_SEG16 */: pushSeg(cpu, m >>> 24, true); break;
        case 120 /* PUSH_SEG32 */: pushSeg(cpu, m >>> 24, false); break;
        case 121 /* POP_SEG16 */: cpu.eip = eip; popSeg(cpu, m >>> 24, true); eip = next; i++; break run;
        case 122 /* POP_SEG32 */: cpu.eip = eip; popSeg(cpu, m >>> 24, false); eip = next; i++; break run;
        case 123 /* PUSHA16 */: pusha(cpu, true); break;
        case 124 /* PUSHA32 */: pusha(cpu, false); break;
        case 125 /* POPA16 */: popa(cpu, true); break;
        case 126 /* POPA32 */: popa(cpu, false); break;
        case 127 /* PUSHF16 */: cpu.eip = eip; pushf(cpu, true); break;
        case 128 /* PUSHF32 */: cpu.eip = eip; pushf(cpu, false); break;
        case 129 /* POPF16 */: cpu.eip = eip; popf(cpu, true); eip = next; i++; break run;
        case 130 /* POPF32 */: cpu.eip = eip; popf(cpu, false); eip = next; i++; break run;
        case 131 /* ENTER16 */: enter(cpu, IMS[i]!, c.imm2[i]!, true); break;
        case 132 /* ENTER32 */: enter(cpu, IMS[i]!, c.imm2[i]!, false); break;
        case 133 /* LEAVE16 */: leave(cpu, true); break;
        case 134 /* LEAVE32 */: leave(cpu, false); break;
        case 135 /* LSEG16 */: cpu.eip = eip; loadFarPointer(cpu, m, DS[i]!, m >>> 24, true); eip = next; i++; break run;
        case 136 /* LSEG32 */: cpu.eip = eip; loadFarPointer(cpu, m, DS[i]!, m >>> 24, false); eip = next; i++; break run;
        case 137 /* XLAT */: {
          const base = (m & 0x20000) !== 0 ? (regs[3]! + cpu.regs8[0]!) & 0xffff : (regs[3]! + cpu.regs8[0]!) | 0;
          cpu.regs8[0] = rd8(cpu, (m >> 14) & 7, base);
          break;
        }

        // ---------------------------------------------------------------- strings
        case 138 /* MOVS8 */: cpu.eip = eip; if (stringOp(cpu, S_MOVS, 1, m, LENS[i]!) !== 0) break run; break;
        case 139 /* MOVS16 */: cpu.eip = eip; if (stringOp(cpu, S_MOVS, 2, m, LENS[i]!) !== 0) break run; break;
        case 140 /* MOVS32 */: cpu.eip = eip; if (stringOp(cpu, S_MOVS, 4, m, LENS[i]!) !== 0) break run; break;
        case 141 /* CMPS8 */: cpu.eip = eip; if (stringOp(cpu, S_CMPS, 1, m, LENS[i]!) !== 0) break run; break;
        case 142 /* CMPS16 */: cpu.eip = eip; if (stringOp(cpu, S_CMPS, 2, m, LENS[i]!) !== 0) break run; break;
        case 143 /* CMPS32 */: cpu.eip = eip; if (stringOp(cpu, S_CMPS, 4, m, LENS[i]!) !== 0) break run; break;
        case 144 /* STOS8 */: cpu.eip = eip; if (stringOp(cpu, S_STOS, 1, m, LENS[i]!) !== 0) break run; break;
        case 145 /* STOS16 */: cpu.eip = eip; if (stringOp(cpu, S_STOS, 2, m, LENS[i]!) !== 0) break run; break;
        case 146 /* STOS32 */: cpu.eip = eip; if (stringOp(cpu, S_STOS, 4, m, LENS[i]!) !== 0) break run; break;
        case 147 /* LODS8 */: cpu.eip = eip; if (stringOp(cpu, S_LODS, 1, m, LENS[i]!) !== 0) break run; break;
        case 148 /* LODS16 */: cpu.eip = eip; if (stringOp(cpu, S_LODS, 2, m, LENS[i]!) !== 0) break run; break;
        case 149 /* LODS32 */: cpu.eip = eip; if (stringOp(cpu, S_LODS, 4, m, LENS[i]!) !== 0) break run; break;
        case 150 /* SCAS8 */: cpu.eip = eip; if (stringOp(cpu, S_SCAS, 1, m, LENS[i]!) !== 0) break run; break;
        case 151 /* SCAS16 */: cpu.eip = eip; if (stringOp(cpu, S_SCAS, 2, m, LENS[i]!) !== 0) break run; break;
        case 152 /* SCAS32 */: cpu.eip = eip; if (stringOp(cpu, S_SCAS, 4, m, LENS[i]!) !== 0) break run; break;
        case 153 /* INS8 */: cpu.eip = eip; if (stringOp(cpu, S_INS, 1, m, LENS[i]!) !== 0) break run; eip = next; i++; break run;
        case 154 /* INS16 */: cpu.eip = eip; if (stringOp(cpu, S_INS, 2, m, LENS[i]!) !== 0) break run; eip = next; i++; break run;
        case 155 /* INS32 */: cpu.eip = eip; if (stringOp(cpu, S_INS, 4, m, LENS[i]!) !== 0) break run; eip = next; i++; break run;
        case 156 /* OUTS8 */: cpu.eip = eip; if (stringOp(cpu, S_OUTS, 1, m, LENS[i]!) !== 0) break run; eip = next; i++; break run;
        case 157 /* OUTS16 */: cpu.eip = eip; if (stringOp(cpu, S_OUTS, 2, m, LENS[i]!) !== 0) break run; eip = next; i++; break run;
        case 158 /* OUTS32 */: cpu.eip = eip; if (stringOp(cpu, S_OUTS, 4, m, LENS[i]!) !== 0) break run; eip = next; i++; break run;
        case 159 /* BOUND16 */: case 160 /* BOUND32 */: cpu.eip = eip; bound(cpu, m, DS[i]!, OPS[i] === 159 /* BOUND16 */); eip = next; i++; break run;
        case 161 /* ARPL */: cpu.eip = eip; arpl(cpu, i); break;

        // ---------------------------------------------------------------- control transfer
        case 162 /* JMP */: {
          let t = (next + IMS[i]!) | 0;
          if ((m & 0x40000) !== 0) t &= 0xffff;
          if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
          eip = t; i++; break run;
        }
        case 163 /* JCC */: {
          if (testCC(cpu, m >>> 24)) {
            let t = (next + IMS[i]!) | 0;
            if ((m & 0x40000) !== 0) t &= 0xffff;
            if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
            eip = t;
          } else eip = next;
          i++; break run;
        }
        case 164 /* JCXZ */: case 165 /* LOOP */: case 166 /* LOOPE */: case 167 /* LOOPNE */: {
          const a16 = (m & 0x20000) !== 0;
          let cx = a16 ? regs[1]! & 0xffff : regs[1]!;
          let take: boolean;
          const op = OPS[i]!;
          if (op === 164 /* JCXZ */) take = cx === 0;
          else {
            cx = a16 ? (cx - 1) & 0xffff : (cx - 1) | 0;
            take = cx !== 0 && (op === 165 /* LOOP */ || (op === 166 /* LOOPE */ ? getZF(cpu) : !getZF(cpu)));
          }
          let t = next;
          if (take) {
            t = (next + IMS[i]!) | 0;
            if ((m & 0x40000) !== 0) t &= 0xffff;
            if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
          }
          if (op !== 164 /* JCXZ */) { if (a16) cpu.regs16[2] = cx; else regs[1] = cx; }
          eip = t; i++; break run;
        }
        case 168 /* CALL */: {
          let t = (next + IMS[i]!) | 0;
          if ((m & 0x40000) !== 0) {
            t &= 0xffff;
            if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
            push16(cpu, next);
          } else {
            if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
            push32(cpu, next);
          }
          eip = t; i++; break run;
        }
        case 169 /* RET */: {
          let t: number;
          if ((m & 0x40000) !== 0) t = peek16(cpu, 0);
          else t = peek32(cpu, 0);
          if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
          adjustSp(cpu, ((m & 0x40000) !== 0 ? 2 : 4) + IMS[i]!);
          eip = t; i++; break run;
        }
        case 170 /* JMP_E */: {
          const t = (m & 0x40000) !== 0 ? readE16(cpu, m, DS[i]!) : readE32(cpu, m, DS[i]!);
          if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
          eip = t; i++; break run;
        }
        case 171 /* CALL_E */: {
          if ((m & 0x40000) !== 0) {
            const t = readE16(cpu, m, DS[i]!);
            if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
            push16(cpu, next);
            eip = t;
          } else {
            const t = readE32(cpu, m, DS[i]!);
            if ((t >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
            push32(cpu, next);
            eip = t;
          }
          i++; break run;
        }
        case 172 /* JMP_FAR */: cpu.eip = eip; jmpFar(cpu, c.imm2[i]!, IMS[i]!, (m & 0x40000) !== 0, next & cpu.ipMask); eip = cpu.eip; i++; break run;
        case 173 /* CALL_FAR */: cpu.eip = eip; callFar(cpu, c.imm2[i]!, IMS[i]!, (m & 0x40000) !== 0, next & cpu.ipMask); eip = cpu.eip; i++; break run;
        case 174 /* JMP_FAR_M */: case 175 /* CALL_FAR_M */: {
          cpu.eip = eip;
          const op16 = (m & 0x40000) !== 0;
          const seg = (m >> 14) & 7;
          const off = ea(cpu, m, DS[i]!);
          const o = op16 ? rd16(cpu, seg, off) : rd32(cpu, seg, off);
          const sel = rd16(cpu, seg, (m & 0x20000) !== 0 ? (off + (op16 ? 2 : 4)) & 0xffff : (off + (op16 ? 2 : 4)) | 0);
          if (OPS[i] === 174 /* JMP_FAR_M */) jmpFar(cpu, sel, o, op16, next & cpu.ipMask);
          else callFar(cpu, sel, o, op16, next & cpu.ipMask);
          eip = cpu.eip; i++; break run;
        }
        case 176 /* RETF */: cpu.eip = eip; retFar(cpu, (m & 0x40000) !== 0, IMS[i]!); eip = cpu.eip; i++; break run;
        case 177 /* IRET */: cpu.eip = eip; iret(cpu, (m & 0x40000) !== 0, next & cpu.ipMask); eip = cpu.eip; i++; break run;
        case 178 /* INT */: {
          // VM86: IOPL-sensitive, or redirected to the 8086 handler by the VME bitmap
          if ((cpu.flags & 0x20000) !== 0 && v86IntN(cpu, IMS[i]! & 0xff, next & 0xffff)) { eip = cpu.eip; i++; break run; }
          cpu.eip = next & cpu.ipMask; cpu.softLen = LENS[i]!;
          deliverEvent(cpu, IMS[i]! & 0xff, -1, EK_SOFT);
          eip = cpu.eip; i++; break run;
        }
        case 179 /* INT3 */: cpu.eip = next & cpu.ipMask; cpu.softLen = LENS[i]!; deliverEvent(cpu, 3, -1, EK_SOFTEXC); eip = cpu.eip; i++; break run;
        case 180 /* INTO */:
          if (getOF(cpu)) {
            cpu.eip = next & cpu.ipMask; cpu.softLen = LENS[i]!; deliverEvent(cpu, 4, -1, EK_SOFTEXC);
            eip = cpu.eip; i++; break run;
          }
          break;
        case 181 /* INT1 */: cpu.eip = next & cpu.ipMask; cpu.softLen = LENS[i]!; deliverEvent(cpu, 1, -1, EK_ICEBP); eip = cpu.eip; i++; break run;
        case 182 /* HLT */: cpu.eip = eip; hlt(cpu, i); eip = cpu.eip; i++; break run;
        case 183 /* IN_I */: cpu.eip = eip; doIn(cpu, IMS[i]!, m >>> 24, LENS[i]!); eip = next; i++; break run;
        case 184 /* IN_DX */: cpu.eip = eip; doIn(cpu, regs[2]! & 0xffff, m >>> 24, LENS[i]!); eip = next; i++; break run;
        case 185 /* OUT_I */: cpu.eip = eip; doOut(cpu, IMS[i]!, m >>> 24, LENS[i]!); eip = next; i++; break run;
        case 186 /* OUT_DX */: cpu.eip = eip; doOut(cpu, regs[2]! & 0xffff, m >>> 24, LENS[i]!); eip = next; i++; break run;

        // ---------------------------------------------------------------- system
        case 187 /* SLDT */: cpu.eip = eip; sldtStr(cpu, i, false); break;
        case 188 /* STR */: cpu.eip = eip; sldtStr(cpu, i, true); break;
        case 189 /* LLDT */: cpu.eip = eip; lldtLtr(cpu, i, false); eip = cpu.eip; i++; break run;
        case 190 /* LTR */: cpu.eip = eip; lldtLtr(cpu, i, true); eip = cpu.eip; i++; break run;
        case 191 /* VERR */: cpu.eip = eip; verrVerw(cpu, i, false); break;
        case 192 /* VERW */: cpu.eip = eip; verrVerw(cpu, i, true); break;
        case 193 /* SGDT */: cpu.eip = eip; sgdtSidt(cpu, i, false); break;
        case 194 /* SIDT */: cpu.eip = eip; sgdtSidt(cpu, i, true); break;
        case 195 /* LGDT */: cpu.eip = eip; lgdtLidt(cpu, i, false); eip = cpu.eip; i++; break run;
        case 196 /* LIDT */: cpu.eip = eip; lgdtLidt(cpu, i, true); eip = cpu.eip; i++; break run;
        case 197 /* SMSW */: cpu.eip = eip; smsw(cpu, i); break;
        case 198 /* LMSW */: cpu.eip = eip; lmsw(cpu, i); eip = cpu.eip; i++; break run;
        case 199 /* INVLPG */: cpu.eip = eip; invlpg(cpu, i); eip = cpu.eip; i++; break run;
        case 200 /* LAR */: cpu.eip = eip; larLsl(cpu, i, false); break;
        case 201 /* LSL */: cpu.eip = eip; larLsl(cpu, i, true); break;
        case 202 /* CLTS */: cpu.eip = eip; clts(cpu, i); eip = cpu.eip; i++; break run;
        case 203 /* INVD */: case 204 /* WBINVD */: cpu.eip = eip; invdWbinvd(cpu, i); break;
        case 205 /* MOV_RC */: cpu.eip = eip; movFromCr(cpu, i); break;
        case 206 /* MOV_CR */: cpu.eip = eip; movToCr(cpu, i); eip = cpu.eip; i++; break run;
        case 207 /* MOV_RD */: cpu.eip = eip; movFromDr(cpu, i); break;
        case 208 /* MOV_DR */: cpu.eip = eip; movToDr(cpu, i); eip = cpu.eip; i++; break run;
        case 209 /* WRMSR */: cpu.eip = eip; wrmsr(cpu, i); eip = cpu.eip; i++; break run;
        case 210 /* RDTSC */: cpu.eip = eip; rdtsc(cpu, i); break;
        case 211 /* RDMSR */: cpu.eip = eip; rdmsr(cpu, i); break;
        case 212 /* RDPMC */: cpu.eip = eip; rdpmc(cpu, i); break;
        case 213 /* SYSENTER */:
          cpu.eip = eip;
          if (cpu.controls.mode === ExecMode.PV) { sysenterExit(cpu, i); eip = next; i++; break run; }
          sysenter(cpu); eip = cpu.eip; i++; break run;
        case 214 /* SYSEXIT */: cpu.eip = eip; sysexit(cpu); eip = cpu.eip; i++; break run;
        case 215 /* CPUID */: cpu.eip = eip; cpuid(cpu, i); break;
        case 216 /* FPU */: cpu.eip = eip; if (fpuEsc(cpu, i) !== 0) { eip = next; i++; break run; } break;
        case 217 /* FWAIT */: cpu.eip = eip; if (fwait(cpu, i) !== 0) { eip = next; i++; break run; } break;
        case 218 /* FXSAVE */: cpu.eip = eip; fxsaveRstor(cpu, i, false); break;
        case 219 /* FXRSTOR */: cpu.eip = eip; fxsaveRstor(cpu, i, true); eip = next; i++; break run;
        case 220 /* LDMXCSR */: case 221 /* STMXCSR */: cpu.eip = eip; sseOnly(cpu, i, false); raise(cpu, 6, -1); break;
        case 222 /* SSE2_FENCE */: cpu.eip = eip; sseOnly(cpu, i, true); break;
        case 223 /* SSE_FENCE */: cpu.eip = eip; sseOnly(cpu, i, false); break;
        case 224 /* CLFLUSH */: raise(cpu, 6, -1); break;
        case 225 /* RSM */: raise(cpu, 6, -1); break;
        default: raise(cpu, 6, -1);
      }
      eip = next;
    }
  } catch (e) {
    cpu.eip = eip;
    cpu.instructions += i - first;
    throw e;
  }
  cpu.eip = eip & cpu.ipMask;
  cpu.instructions += i - first;
}

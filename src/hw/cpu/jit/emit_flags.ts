/**
 * The arithmetic-flag side of the JIT emitters: the lazy-flag state an ALU op leaves (only
 * when its flags are live, Ctx.flagsLive) and the conditions a following Jcc/SETcc/CMOVcc/
 * ADC/SBB/INC/DEC computes straight from the producer's operands (fusion, Ctx.fuse).
 * Operands in fa/fb/fr are sign-extended to 32 bits exactly as flags.ts keeps them.
 */
import { type Ctx, F_ADD, F_INCDEC, F_LOGIC, F_NONE, F_SUB, flagStore } from './emit.ts';

/** Lazy-flag stores of ADD, SUB/CMP and the logic ops, over the fused operands fa/fb/fr. */
const ADD_ST = ' cpu.fOp1 = fa; cpu.fOp2 = fb; cpu.fRes = fr; cpu.fKind = 0; cpu.lazy = 0x8d5;';
const SUB_ST = ' cpu.fOp1 = fa; cpu.fOp2 = fb; cpu.fRes = fr; cpu.fKind = 1; cpu.lazy = 0x8d5;';
const LOGIC_ST = ' cpu.flags &= -2066; cpu.fRes = fr; cpu.lazy = 0xc4;';

/** Flags and result of a 32-bit ALU op on locals a, b into r; sets c.fuse. */
export function emitAlu32(c: Ctx, aop: number): void {
  switch (aop) {
    case 0:
      c.out.push(`r = (a + b) | 0; fa = a; fb = b; fr = r;${flagStore(c, ADD_ST)}`);
      c.fuse = F_ADD;
      return;
    case 5: case 7:
      c.out.push(`r = (a - b) | 0; fa = a; fb = b; fr = r;${flagStore(c, SUB_ST)}`);
      c.fuse = F_SUB;
      return;
    case 1: case 4: case 6: {
      const o = aop === 1 ? '|' : aop === 4 ? '&' : '^';
      c.out.push(`r = a ${o} b; fr = r;${flagStore(c, LOGIC_ST)}`);
      c.fuse = F_LOGIC;
      return;
    }
    default: {
      // ADC / SBB: carry in from the fused producer or the lazy state; CF, OF, AF eager
      const cin = cfExpr(c);
      if (aop === 2) {
        c.out.push(`v = ${cin}; r = (a + b + v) | 0;`);
        if (c.flagsLive) {
          c.out.push('cpu.flags = (cpu.flags & -2066) | ((a >>> 0) + (b >>> 0) + v > 4294967295 ? 1 : 0) | ' +
            '((((a ^ r) & (b ^ r)) >>> 31) << 11) | ((a ^ b ^ r) & 16); cpu.fRes = r; cpu.lazy = 0xc4;');
        }
      } else {
        c.out.push(`v = ${cin}; r = (a - b - v) | 0;`);
        if (c.flagsLive) {
          c.out.push('cpu.flags = (cpu.flags & -2066) | ((a >>> 0) < (b >>> 0) + v ? 1 : 0) | ' +
            '((((a ^ b) & (a ^ r)) >>> 31) << 11) | ((a ^ b ^ r) & 16); cpu.fRes = r; cpu.lazy = 0xc4;');
        }
      }
      c.fuse = F_NONE;
    }
  }
}

/** JS expression (0 or 1) for the carry flag before the current instruction. */
export function cfExpr(c: Ctx): string {
  switch (c.fuse) {
    case F_SUB: return '((fa >>> 0) < (fb >>> 0) ? 1 : 0)';
    case F_ADD: return '((fr >>> 0) < (fa >>> 0) ? 1 : 0)';
    case F_LOGIC: return '0';
    default: return '((cpu.lazy & 1) !== 0 ? H.getCF(cpu) : (cpu.flags & 1))';
  }
}

/** Flags and result of an 8-bit ALU op on sign-extended locals a, b into r (sign-extended). */
export function emitAlu8(c: Ctx, aop: number): void {
  switch (aop) {
    case 0:
      c.out.push(`r = ((a + b) << 24) >> 24; fa = a; fb = b; fr = r;${flagStore(c, ADD_ST)}`);
      c.fuse = F_ADD;
      return;
    case 5: case 7:
      c.out.push(`r = ((a - b) << 24) >> 24; fa = a; fb = b; fr = r;${flagStore(c, SUB_ST)}`);
      c.fuse = F_SUB;
      return;
    default: {
      const o = aop === 1 ? '|' : aop === 4 ? '&' : '^';
      c.out.push(`r = a ${o} b; fr = r;${flagStore(c, LOGIC_ST)}`);
      c.fuse = F_LOGIC;
    }
  }
}

/** JS boolean expression for condition `cc`, fused with the last producer when possible. */
export function condExpr(c: Ctx, cc: number): string {
  const neg = (cc & 1) !== 0;
  let e: string | null = null;
  const t = cc >> 1;
  switch (c.fuse) {
    case F_SUB:
      switch (t) {
        case 0: e = '(((fa ^ fb) & (fa ^ fr)) < 0)'; break;
        case 1: e = '((fa >>> 0) < (fb >>> 0))'; break;
        case 2: e = '(fa === fb)'; break;
        case 3: e = '((fa >>> 0) <= (fb >>> 0))'; break;
        case 4: e = '(fr < 0)'; break;
        case 5: e = '(PARITY[fr & 255] === 1)'; break;
        case 6: e = '(fa < fb)'; break;
        default: e = '(fa <= fb)'; break;
      }
      break;
    case F_LOGIC:
      switch (t) {
        case 0: case 1: e = 'false'; break;
        case 2: case 3: e = '(fr === 0)'; break;
        case 4: case 6: e = '(fr < 0)'; break;
        case 5: e = '(PARITY[fr & 255] === 1)'; break;
        default: e = '(fr <= 0)'; break;
      }
      break;
    case F_ADD:
      switch (t) {
        case 0: e = '(((fa ^ fr) & (fb ^ fr)) < 0)'; break;
        case 1: e = '((fr >>> 0) < (fa >>> 0))'; break;
        case 2: e = '(fr === 0)'; break;
        case 3: e = '((fr >>> 0) < (fa >>> 0) || fr === 0)'; break;
        case 4: e = '(fr < 0)'; break;
        case 5: e = '(PARITY[fr & 255] === 1)'; break;
        default: e = null;
      }
      break;
    case F_INCDEC:
      if (t === 2) e = '(fr === 0)';
      else if (t === 4) e = '(fr < 0)';
      break;
    default:
      break;
  }
  if (e === null) return `H.testCC(cpu, ${cc})`;
  return neg ? `!${e}` : e;
}

/**
 * The run loop: Cpu.run(budget) -> exit reason (CPU-PERF rules 10-12).
 *
 * Between blocks it tests one int (`pendingEvents`); only when that is non-zero does it look
 * at exits, kicks, NMI, injected events, INTR, the halt state and step mode. Faults thrown
 * by a block are caught here (outside the hot function), delivered (intr.ts) and the loop
 * re-enters. A fault whose vector is EXC_EXIT is an exit recorded mid-instruction.
 *
 * Interrupt recognition: at a block boundary with IF = 1 and no interrupt shadow. The
 * instruction after STI / MOV SS / POP SS runs alone (step mode) before the next check, so
 * the shadow covers exactly one instruction (after MOV SS / POP SS it also holds back the
 * single-step trap). With TF set, each instruction runs alone and is followed by a #DB
 * trap (DR6.BS) unless it delivered an event itself; enabled DR0-DR3
 * instruction breakpoints are checked before each instruction in step mode (RF suppresses
 * one). Data breakpoints (R/W 01 and 11) and I/O breakpoints (R/W 10 with CR4.DE) make
 * every access of the stepped instruction take the slow path (Cpu.watch), which records
 * matches; a match is a #DB trap after the instruction (after the iteration, for REP string
 * instructions, which then run one iteration per step), DR6.Bn set, merged with a TF trap.
 */
import type { Cpu } from './cpu.ts';
import { EV_EXIT, EV_HALT, EV_INJECT, EV_INTR, EV_IWIN, EV_KICK, EV_NMI, EV_STEP } from './cpu.ts';
import { execBlock } from './exec.ts';
import { ExecMode, ExitReason, type ExitReasonCode } from './exit.ts';
import { EXC_EXIT, FAULT } from './fault.ts';
import { decodeSingle, fetchMa, getBlock } from './fetch.ts';
import { compileFrame } from './jit/jit.ts';
import { deliverEvent, EK_EXC, EK_EXT, EK_NMI, EK_SOFT, EK_SOFTEXC } from './intr.ts';

export function runCpu(cpu: Cpu, budget: number): ExitReasonCode {
  cpu.exit.reason = ExitReason.NONE;
  if (cpu.tlb.owner !== cpu) {
    cpu.tlb.flushAll();
    cpu.tlb.owner = cpu;
    cpu.fetchPage = -1;
  }
  if (cpu.mmio.generation !== cpu.mmioGen) {
    cpu.mmioGen = cpu.mmio.generation;
    cpu.flushTlb();
  }
  cpu.budgetEnd = cpu.instructions + Math.max(1, budget);
  if (cpu.shutdown) {
    cpu.exit.reset(ExitReason.SHUTDOWN);
    return ExitReason.SHUTDOWN;
  }
  if (cpu.controls.exitOnInterruptWindow) cpu.pendingEvents |= EV_IWIN;
  if (cpu.injVector >= 0) cpu.pendingEvents |= EV_INJECT;
  // the host may have set TF or armed DR7 (debug registers written directly, a snapshot)
  if ((cpu.dr[7]! & 0xff) !== 0 || (cpu.flags & 0x100) !== 0) cpu.pendingEvents |= EV_STEP;
  for (;;) {
    try {
      return loop(cpu) as ExitReasonCode;
    } catch (e) {
      if (e !== FAULT) throw e;
      if (cpu.excVec === EXC_EXIT) {
        cpu.pendingEvents &= ~EV_EXIT;
        return cpu.exit.reason as ExitReasonCode;
      }
      cpu.intShadow = 0;
      try {
        deliverEvent(cpu, cpu.excVec, cpu.excErr, EK_EXC);
      } catch (e2) {
        if (e2 !== FAULT || cpu.excVec !== EXC_EXIT) throw e2;
        return cpu.exit.reason as ExitReasonCode;
      }
    }
  }
}

function loop(cpu: Cpu): number {
  const c = cpu.cache;
  const regions = c.regions;
  for (;;) {
    if (cpu.pendingEvents !== 0) {
      const r = events(cpu);
      if (r > 0) return r;
      if (r < 0) {
        // step mode (TF, DR7, a shadow): the budget still ends the run (a pending shadow
        // first lets its one instruction through)
        if (cpu.instructions >= cpu.budgetEnd && cpu.intShadow === 0) {
          cpu.exit.reset(ExitReason.BUDGET);
          return ExitReason.BUDGET;
        }
        stepOne(cpu);
        continue;
      }
    }
    if (cpu.instructions >= cpu.budgetEnd) {
      cpu.exit.reset(ExitReason.BUDGET);
      return ExitReason.BUDGET;
    }
    const jit = cpu.flat32 && cpu.jitEnabled;
    if (jit) {
      const ma = fetchMa(cpu);
      if (ma >= 0) {
        const fn = regions[ma >>> 12];
        if (fn !== undefined && fn(cpu, ma & 0xfff) === 0) continue;
      }
    }
    const b = getBlock(cpu);
    const n = c.blkCount[b]!;
    if (jit && b !== 0 && cpu.jitThreshold === 0 && c.blkMode[b] === 1) {
      // testing mode: compile at once and run the block compiled
      // (the dispatch above found no region entry for this block: compile one with it)
      const f = c.blkAddr[b]! >>> 12;
      compileFrame(cpu, f, true);
      const fn = regions[f];
      if (fn !== undefined && fn(cpu, c.blkAddr[b]! & 0xfff) === 0) continue;
    }
    execBlock(cpu, c.blkFirst[b]!, n);
    if (jit && b !== 0 && c.blkMode[b] === 1) {
      const f = c.blkAddr[b]! >>> 12;
      if ((c.heat[f] += n) >= cpu.jitThreshold) compileFrame(cpu, f, false);
    }
  }
}

/** Service pending events. > 0: exit with that reason; < 0: run one instruction alone. */
function events(cpu: Cpu): number {
  const ev = cpu.pendingEvents;
  if ((ev & EV_EXIT) !== 0) {
    cpu.pendingEvents &= ~EV_EXIT;
    return cpu.exit.reason;
  }
  if ((ev & EV_KICK) !== 0) {
    cpu.pendingEvents &= ~EV_KICK;
    cpu.exit.reset(ExitReason.KICK);
    return ExitReason.KICK;
  }
  if (cpu.taskTrap) {
    // trap of the task switch just completed (the TSS T bit): before NMI and INTR
    cpu.taskTrap = false;
    cpu.dr[6] = cpu.dr[6]! | 0x8000;
    deliverEvent(cpu, 1, -1, EK_EXC);
    return 0;
  }
  if (cpu.intShadow !== 0) return -1;
  if ((ev & EV_NMI) !== 0) {
    if (cpu.nmiPending && !cpu.nmiBlocked) {
      cpu.nmiPending = false;
      cpu.pendingEvents &= ~EV_NMI;
      wake(cpu);
      deliverEvent(cpu, 2, -1, EK_NMI);
      return 0;
    }
    if (!cpu.nmiPending) cpu.pendingEvents &= ~EV_NMI;
  }
  if ((ev & EV_INJECT) !== 0) {
    cpu.pendingEvents &= ~EV_INJECT;
    if (cpu.injVector >= 0) {
      const v = cpu.injVector, t = cpu.injType, e = cpu.injError;
      cpu.injVector = -1;
      wake(cpu);
      if (t === 4 || t === 6) {
        cpu.softLen = cpu.injLength;
        cpu.eip = (cpu.eip + cpu.injLength) & cpu.ipMask;
        deliverEvent(cpu, v, -1, t === 4 ? EK_SOFT : EK_SOFTEXC);
      } else {
        deliverEvent(cpu, v, e, t === 0 ? EK_EXT : t === 2 ? EK_NMI : EK_EXC);
      }
      return 0;
    }
  }
  const ifSet = (cpu.flags & 0x200) !== 0;
  if ((ev & EV_IWIN) !== 0) {
    if (!cpu.controls.exitOnInterruptWindow) cpu.pendingEvents &= ~EV_IWIN;
    else if (ifSet) {
      cpu.pendingEvents &= ~EV_IWIN;
      cpu.exit.reset(ExitReason.INTERRUPT_WINDOW);
      return ExitReason.INTERRUPT_WINDOW;
    }
  }
  if ((ev & EV_INTR) !== 0) {
    const intr = cpu.intr;
    if (!ifSet || intr === null || cpu.controls.mode === ExecMode.PV) {
      cpu.pendingEvents &= ~EV_INTR;
    } else if (intr.hasInterrupt()) {
      const vec = intr.acknowledge() & 0xff;
      wake(cpu);
      deliverEvent(cpu, vec, -1, EK_EXT);
      return 0;
    } else {
      cpu.pendingEvents &= ~EV_INTR;
    }
  }
  if (cpu.halted) {
    cpu.pendingEvents |= EV_HALT;
    cpu.exit.reset(ExitReason.HLT);
    return ExitReason.HLT;
  }
  cpu.pendingEvents &= ~EV_HALT;
  if ((ev & EV_STEP) !== 0) {
    if ((cpu.flags & 0x100) !== 0 || (cpu.dr[7]! & 0xff) !== 0) return -1;
    cpu.pendingEvents &= ~EV_STEP;
  }
  return 0;
}

function wake(cpu: Cpu): void {
  if (cpu.halted) {
    cpu.halted = false;
    cpu.pendingEvents &= ~EV_HALT;
  }
}

/** Run exactly one instruction (shadow, TF, debug registers), then the single-step trap. */
function stepOne(cpu: Cpu): void {
  const tf = (cpu.flags & 0x100) !== 0;
  cpu.intShadow = 0;
  if ((cpu.dr[7]! & 0xff) !== 0 && (cpu.flags & 0x10000) === 0) checkInsnBreakpoints(cpu);
  cpu.flags &= ~0x10000; // RF is cleared once an instruction completes
  const before = cpu.deliveries;
  const b = decodeSingle(cpu);
  const c = cpu.cache;
  const watch = watchedBreakpoints(cpu.dr[7]!);
  cpu.dbHits = 0;
  if (watch !== 0) {
    cpu.watch = watch;
    cpu.updateMasks();
  }
  let hits = 0;
  try {
    execBlock(cpu, c.blkFirst[b]!, c.blkCount[b]!);
    hits = cpu.dbHits;
  } finally {
    cpu.dbHits = 0;
    if (watch !== 0) {
      cpu.watch = 0;
      cpu.updateMasks();
    }
  }
  // an instruction that opened a MOV SS / POP SS shadow holds its single-step trap back:
  // the next instruction's trap reports both
  const step = tf && cpu.intShadow !== 2;
  if ((step || hits !== 0) && cpu.deliveries === before && (cpu.pendingEvents & EV_EXIT) === 0) {
    cpu.dr[6] = (hits !== 0 ? (cpu.dr[6]! & ~0xf) | hits : cpu.dr[6]!) | (step ? 0x4000 : 0);
    deliverEvent(cpu, 1, -1, EK_EXC);
  }
  if ((cpu.flags & 0x100) !== 0) cpu.pendingEvents |= EV_STEP;
}

/** DR0-DR3 enabled in DR7 as data or I/O breakpoints (R/W != 00): bit n. */
function watchedBreakpoints(dr7: number): number {
  let w = 0;
  for (let n = 0; n < 4; n++) {
    if (((dr7 >>> (n * 2)) & 3) !== 0 && ((dr7 >>> (16 + n * 4)) & 3) !== 0) w |= 1 << n;
  }
  return w;
}

/** Instruction breakpoints (DR7 R/W = 00, len 1): #DB fault before the instruction. */
function checkInsnBreakpoints(cpu: Cpu): void {
  const dr7 = cpu.dr[7]!;
  const lin = (cpu.segBase[1]! + cpu.eip) | 0;
  let hit = 0;
  for (let n = 0; n < 4; n++) {
    if (((dr7 >>> (n * 2)) & 3) === 0) continue;
    if (((dr7 >>> (16 + n * 4)) & 3) !== 0) continue;
    if ((cpu.dr[n]! | 0) === lin) hit |= 1 << n;
  }
  if (hit !== 0) {
    cpu.dr[6] = (cpu.dr[6]! & ~0xf) | hit;
    cpu.excVec = 1;
    cpu.excErr = -1;
    throw FAULT;
  }
}


/**
 * Leaving an instruction early (CPU-PERF rule 10): a fault throws the one preallocated
 * FAULT object; what happened is in the Cpu's `exc*` fields. The run loop catches it
 * outside the hot function, delivers the exception (or returns an exit) and re-enters.
 *
 * Invariants:
 *  - Nothing here allocates; FAULT is never wrapped or replaced.
 *  - Before throwing, the instruction has committed no architectural state (handlers write
 *    results only after their last access that can fault), and Cpu.eip still points at the
 *    instruction's first byte.
 *  - excVec >= 0 is an exception vector with excErr its error code (-1 = none) and, for #PF,
 *    excCr2 the linear address. excVec = EXC_EXIT means "stop with the exit already recorded
 *    in Cpu.exit" (HVM instruction exits, EPT violations), not an exception.
 */
import type { Cpu } from './cpu.ts';

export class CpuFault {
  readonly name = 'CpuFault';
}

export const FAULT = new CpuFault();
export const EXC_EXIT = -1;

export function raise(cpu: Cpu, vector: number, errorCode: number): never {
  cpu.excVec = vector;
  cpu.excErr = errorCode;
  throw FAULT;
}

export function raiseUD(cpu: Cpu): never {
  return raise(cpu, 6, -1);
}

export function raiseGP(cpu: Cpu, errorCode: number): never {
  return raise(cpu, 13, errorCode & 0xffff);
}

export function raiseSS(cpu: Cpu, errorCode: number): never {
  return raise(cpu, 12, errorCode & 0xffff);
}

export function raiseNP(cpu: Cpu, errorCode: number): never {
  return raise(cpu, 11, errorCode & 0xffff);
}

export function raiseTS(cpu: Cpu, errorCode: number): never {
  return raise(cpu, 10, errorCode & 0xffff);
}

export function raisePF(cpu: Cpu, linear: number, errorCode: number): never {
  cpu.excCr2 = linear | 0;
  cpu.excHole = false;
  return raise(cpu, 14, errorCode);
}

/** Stop the instruction with the exit already written to cpu.exit. */
export function raiseExit(cpu: Cpu, reason: number): never {
  cpu.exit.reason = reason;
  cpu.excVec = EXC_EXIT;
  cpu.excErr = -1;
  throw FAULT;
}

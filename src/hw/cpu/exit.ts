/**
 * How the CPU hands control back to whoever runs it: `Cpu.run(budget)` returns an
 * ExitReason and leaves the details in the Cpu's one preallocated ExitInfo (no allocation
 * per exit). Which events exit is configured per CPU by ExecControls:
 *
 *  - BARE: nothing is intercepted; the CPU is a plain PC processor. run() returns only for
 *    BUDGET, HLT (halted, waiting for an interrupt), SHUTDOWN (triple fault) and KICK.
 *  - PV: ring 0 belongs to the host (the hypervisor). Every event that would enter CPL 0 --
 *    an exception, an external interrupt, INT n/INT3/INTO that passes its gate check, a
 *    #GP from a privileged instruction in ring 1 -- instead returns EXCEPTION or SOFT_INT,
 *    with the guest state exactly as the architecture has it at delivery (EIP at the
 *    faulting instruction for faults, after the instruction for traps and INT n; CR2
 *    loaded for #PF). No IDT is read. The gate DPL of INT n comes from `softIntDpl`
 *    (0 = no software access, so INT n from ring 1 or 3 gives #GP(n*8+2), which exits).
 *    SYSENTER exits with SYSENTER.
 *  - HVM: a VMX-like guest mode. The guest's own ring 0 runs and its IDT is used; exits come
 *    only from the configured controls below, and every guest-physical access goes through
 *    the second-stage table `p2m` (gfn -> mfn); a missing or forbidden entry exits with
 *    EPT_VIOLATION.
 *
 * Instruction exits (IO, CPUID, MSR_*, CR_ACCESS, INVLPG, RDTSC, HLT in HVM) happen BEFORE the
 * instruction executes, with EIP at it; `insnLength` lets the handler skip it after
 * emulating, as with VMX's VM-exit instruction length.
 */

export const ExitReason = {
  NONE: 0,
  /** The instruction budget given to run() is spent. */
  BUDGET: 1,
  /** HLT executed (bare/PV: the CPU is halted until an interrupt; HVM: HLT exiting). */
  HLT: 2,
  /** An exception or interrupt for the host: vector, errorCode, cr2 (PV; HVM bitmap). */
  EXCEPTION: 3,
  /** PV: INT n, INT3 or INTO passed its gate DPL check: vector, nextEip, insnLength. */
  SOFT_INT: 4,
  /** Triple fault: the processor shut down. */
  SHUTDOWN: 5,
  /** HVM I/O exiting: port, size, isIn, isString, isRep, value (for OUT). */
  IO: 6,
  CPUID: 7,
  MSR_READ: 8,
  MSR_WRITE: 9,
  /** HVM: mov to/from CR0/3/4, CLTS, LMSW: cr, crWrite, gpr, value. */
  CR_ACCESS: 10,
  INVLPG: 11,
  /** HVM: interrupts became deliverable (IF = 1, no shadow) while window exiting is armed. */
  INTERRUPT_WINDOW: 12,
  /** HVM: second-stage translation failed: gpa, access (bit 0 read, 1 write, 2 fetch). */
  EPT_VIOLATION: 13,
  /** Cpu.requestExit() was called (scheduler preemption, another thread). */
  KICK: 14,
  /** PV: SYSENTER executed (the hypervisor owns the fast system call path). */
  SYSENTER: 15,
  /** HVM: the guest state cannot be entered or an event cannot be injected. */
  INVALID_STATE: 16,
  /** HVM: RDTSC with exitOnRdtsc (before the instruction; CR4.TSD's #GP comes first). */
  RDTSC: 17,
} as const;
export type ExitReasonCode = (typeof ExitReason)[keyof typeof ExitReason];

export const EXIT_REASON_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ExitReason).map(([k, v]) => [v, k]),
);

/** Execution mode of a CPU: which events leave run(). */
export const ExecMode = { BARE: 0, PV: 1, HVM: 2 } as const;
export type ExecModeCode = (typeof ExecMode)[keyof typeof ExecMode];

/** Details of the last exit. One instance per Cpu, overwritten by every exit. */
export class ExitInfo {
  reason = 0;
  /** EXCEPTION/SOFT_INT: the vector. */
  vector = 0;
  /** EXCEPTION: the error code, or -1 when the exception has none. */
  errorCode = -1;
  /** EXCEPTION #PF, EPT_VIOLATION: the faulting linear address. */
  cr2 = 0;
  /** EXCEPTION #PF (PV): an explicit access into the hypervisor hole (controls.pvHoleStart). */
  pfHole = false;
  /** Length of the instruction that exited (instruction exits, SOFT_INT); 0 otherwise. */
  insnLength = 0;
  /** EIP after the instruction (SOFT_INT; instruction exits: EIP + insnLength). */
  nextEip = 0;
  /** EXCEPTION: true if raised by INT n / INT3 / INTO / ICEBP (a trap with EIP after it). */
  software = false;
  /** EXCEPTION: true if this was an external (hardware) interrupt or NMI. */
  external = false;
  /** IO */
  port = 0;
  size = 0;
  isIn = false;
  isString = false;
  isRep = false;
  /** IO out value; MSR_WRITE low half; CR_ACCESS value written. */
  value = 0;
  /** MSR_*: the MSR index; MSR_WRITE: high half in valueHigh. */
  msr = 0;
  valueHigh = 0;
  /** CR_ACCESS: control register number, direction, GPR involved (or -1 for CLTS/LMSW). */
  cr = 0;
  crWrite = false;
  gpr = -1;
  /** EPT_VIOLATION: guest-physical address and access kind (1 read, 2 write, 4 fetch). */
  gpa = 0;
  access = 0;

  reset(reason: number): void {
    this.reason = reason;
    this.vector = 0;
    this.errorCode = -1;
    this.cr2 = 0;
    this.pfHole = false;
    this.insnLength = 0;
    this.nextEip = 0;
    this.software = false;
    this.external = false;
    this.port = 0;
    this.size = 0;
    this.isIn = false;
    this.isString = false;
    this.isRep = false;
    this.value = 0;
    this.msr = 0;
    this.valueHigh = 0;
    this.cr = 0;
    this.crWrite = false;
    this.gpr = -1;
    this.gpa = 0;
    this.access = 0;
  }
}

/**
 * Per-CPU exit controls. PV uses softIntDpl; HVM uses the rest (VMX-like). All arrays are
 * owned by the CPU and may be modified in place by the hypervisor between runs.
 */
export class ExecControls {
  mode: ExecModeCode = ExecMode.BARE;
  /** PV: gate DPL per vector for INT n / INT3 / INTO (0..3). */
  readonly softIntDpl = new Uint8Array(256);
  /** HVM: bit v set = exception vector v exits instead of going through the guest IDT. */
  exceptionBitmap = 0;
  /** HVM: bit p set = port p exits (8 KiB, like VMX's two I/O bitmaps). */
  readonly ioBitmap = new Uint8Array(8192);
  /** HVM: bit m set = MSR m (0..0x1fff, 0xc0000000..0xc0001fff at +0x2000) exits on read, write. */
  readonly msrReadBitmap = new Uint8Array(2048);
  readonly msrWriteBitmap = new Uint8Array(2048);
  exitOnCpuid = false;
  exitOnHlt = false;
  exitOnInvlpg = false;
  /** HVM: bit n = mov to CRn exits (0, 3, 4 meaningful; bit 0 also covers CLTS and LMSW). */
  crWriteExitMask = 0;
  /** HVM: bit n = mov from CRn exits (3 meaningful). */
  crReadExitMask = 0;
  exitOnRdtsc = false;
  exitOnInterruptWindow = false;
  /**
   * HVM second stage: entry for gfn = (mfn << 4) | perms (1 read, 2 write, 4 execute), or 0
   * when unmapped. Null outside HVM. Replace the array (setP2m) rather than growing it.
   */
  p2m: Int32Array | null = null;
  /**
   * PV: linear addresses at and above this (unsigned; 2^32 = none) are the hypervisor's.
   * Explicit accesses (data, stack, fetch) from CPL 1-3 there are #PF (not present); the
   * CPU's implicit supervisor accesses (descriptor tables, TSS) translate normally. Set it
   * before running, or flush the TLB (cpu.flushTlb()) after changing it.
   */
  pvHoleStart = 0x100000000;
}

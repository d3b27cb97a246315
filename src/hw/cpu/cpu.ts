/**
 * One IA-32 (i686) processor: its architectural state in typed arrays and int32 fields, and
 * the public surface the platform and the hypervisor drive it through. The semantics live in
 * the sibling modules (exec.ts interpreter, decode.ts, mem.ts, paging.ts, seg.ts, intr.ts,
 * task.ts, ...), which take the Cpu as their first argument. docs/cpu.md is the contract.
 *
 * Invariants:
 *  - Every field is initialized in the constructor (one hidden class); numeric fields only
 *    ever hold int32 values (unsigned quantities are stored `| 0`), except `instructions`
 *    and the TSC offset, which are doubles.
 *  - Derived fields are recomputed whenever their sources change, by the functions named:
 *    cpl/code32/stack32/segLim (seg.ts: refreshSegment, updateMode), rdMask/wrMask
 *    (updateMasks, on CPL change), tlbE (attach), ipMask (code32).
 *  - Between instructions `eip` is the next instruction to run and `flags`+lazy state is
 *    EFLAGS. Inside run() the interpreter may hold them in locals; every exit writes back.
 *  - The Cpu never throws into its caller for anything the guest does: guest errors are
 *    architectural (exceptions, shutdown). A thrown Error is a bug in tsxen.
 */
import type { InterruptController } from '../irq.ts';
import type { Clock } from '../clock.ts';
import { MmioBus } from '../bus/mmio_bus.ts';
import { PortBus } from '../bus/port_bus.ts';
import type { MachineMemory } from '../memory/machine_memory.ts';
import { CodeCache } from './code_cache.ts';
import { type CpuidModel, defaultCpuidModel, CPUID_FPU, CPUID_FXSR } from './cpuid.ts';
import { ExecControls, ExitInfo, type ExitReasonCode } from './exit.ts';
import type { Fpu, FpuEnv, FpuMemory } from './fpu/fpu.ts';
import { getEflags } from './flags.ts';
import { Tlb, T_HOLE, T_MMIO, T_NOUSER, T_ROSUP, T_ROUSER, T_VALID } from './tlb.ts';
import { runCpu } from './run.ts';
import { JIT_THRESHOLD } from './jit/jit.ts';
import {
  cpuSetCr0, cpuSetCr3, cpuSetCr4, cpuWriteEflags, cpuLoadSegment, cpuSetSegment, cpuReset,
  cpuReadMsr, cpuWriteMsr, cpuInjectEvent, cpuReadLinear, cpuWriteLinear, cpuTranslate, type SegmentState,
  type MsrResult, type TranslateResult,
} from './cpu_api.ts';
import { saveCpuState, loadCpuState, type CpuSnapshot } from './snapshot.ts';
import { rdLin, wrLin } from './mem.ts';
import { R8_OFFSET } from './regs.ts';

export interface CpuOptions {
  memory: MachineMemory;
  clock: Clock;
  /** I/O ports (default: an empty bus: reads all-ones, writes ignored). */
  ports?: PortBus;
  /** MMIO regions (default: none). */
  mmio?: MmioBus;
  /** A TLB shared with other Cpus that take turns on one thread (default: own TLB). */
  tlb?: Tlb;
  /** The x87 unit (src/hw/cpu/fpu). Without one, CPUID has no FPU and ESC raises #NM/#UD. */
  fpu?: Fpu | null;
  /** CPUID model overrides. */
  cpuid?: Partial<CpuidModel>;
  /** The INTR source (bare PC: the master i8259). */
  intr?: InterruptController | null;
  /** TSC frequency in Hz (default 1 GHz): RDTSC = clock ns * tscHz / 1e9 + offset. */
  tscHz?: number;
  /** Compile hot flat-32 code to JavaScript (default true). */
  jit?: boolean;
}

/** Pending-event bits (Cpu.pendingEvents), tested once per block. */
export const EV_INTR = 1;
export const EV_NMI = 2;
export const EV_KICK = 4;
export const EV_EXIT = 8;
export const EV_STEP = 16;
export const EV_INJECT = 32;
export const EV_IWIN = 64;
export const EV_HALT = 128;

export class Cpu {
  // ---- general registers and EIP
  readonly regs = new Int32Array(8);
  /** AL CL DL BL at bytes 0 4 8 12, AH CH DH BH at 1 5 9 13 (R8_OFFSET). */
  readonly regs8: Uint8Array;
  /** AX..DI at even indices 0..14 (r * 2). */
  readonly regs16: Uint16Array;
  eip = 0;
  // ---- EFLAGS with lazy arithmetic flags (flags.ts)
  flags = 2;
  lazy = 0;
  fKind = 0;
  fOp1 = 0;
  fOp2 = 0;
  fRes = 0;
  // ---- segments: ES CS SS DS FS GS LDTR TR (regs.ts)
  readonly segSel = new Int32Array(8);
  readonly segBase = new Int32Array(8);
  readonly segLimit = new Int32Array(8);
  /** VMX access-rights layout (regs.ts SegAttr). */
  readonly segAttr = new Int32Array(8);
  /** Exclusive bound on the start offset of an access, per segment and kind (mem.ts). */
  readonly segLim = new Float64Array(64);
  gdtBase = 0;
  gdtLimit = 0;
  idtBase = 0;
  idtLimit = 0;
  // ---- control, debug and model-specific registers
  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  readonly dr = new Int32Array(8);
  efer = 0;
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  apicBase = 0;
  /** MSRs that are only stored (PAT, MTRRs, MISC_ENABLE...): index -> [lo, hi]. */
  readonly msrStore = new Map<number, [number, number]>();
  /** TSC = clock-derived cycles + tscOffset (a double). */
  tscOffset = 0;
  /** Clock cycles at the last TSC read (readTsc: strictly increasing). */
  tscCycles = -Infinity;
  readonly tscHz: number;
  /** PAE PDPTE registers: lo, hi for entries 0..3. */
  readonly pdpte = new Int32Array(8);
  readonly pdpteScratch = new Int32Array(8);
  // ---- derived mode state
  cpl = 0;
  code32 = false;
  stack32 = false;
  /** 32-bit code and stack with flat CS/SS/DS/ES (seg.ts updateFlat): the JIT's mode. */
  flat32 = false;
  /** 0xffff for 16-bit code (IP wraps), -1 for 32-bit. */
  ipMask = 0xffff;
  /** ~(1 << 20) with the A20 gate closed, -1 when open. */
  a20Mask = -1;
  // ---- TLB
  readonly tlb: Tlb;
  tlbE: Int32Array;
  /** Masks for `(entry & mask) === T_VALID` (tlb.ts): reads and writes at the current CPL. */
  rdMask = T_VALID | T_MMIO | T_HOLE;
  wrMask = T_VALID | T_MMIO | T_HOLE;
  /** Fetch translation cache: linear page and (frame ^ page) of the last code page, or -1. */
  fetchPage = -1;
  fetchXor = 0;
  // ---- execution state
  /** Retired instructions (REP-prefixed string instructions count once). */
  instructions = 0;
  budgetEnd = 0;
  pendingEvents = 0;
  halted = false;
  /** Interrupt shadow for the next instruction: 1 after STI, 2 after MOV SS / POP SS. */
  intShadow = 0;
  /** CR0.AM, EFLAGS.AC and CPL 3 together: misaligned data accesses raise #AC(0). */
  alignCheck = false;
  /**
   * While one instruction runs in step mode with data or I/O breakpoints enabled in DR7:
   * which of DR0-DR3 watch accesses (bit n; every access then takes the slow path, which
   * records matches in `dbHits` for the #DB trap after the instruction). 0 otherwise.
   */
  watch = 0;
  dbHits = 0;
  /** A task switch into a TSS with the T bit: #DB (DR6.BT) before the new task's first instruction. */
  taskTrap = false;
  nmiBlocked = false;
  nmiPending = false;
  /** HVM event injection: vector, type (0 ext, 2 NMI, 3 exception, 4 soft int), error code. */
  injVector = -1;
  injType = 0;
  injError = -1;
  injLength = 0;
  /** Delivery nesting for double/triple fault: vector being delivered, or -1. */
  delivering = -1;
  /** Events delivered so far (single-step trap suppression). */
  deliveries = 0;
  /** Length of the INT n instruction being delivered (PV SOFT_INT exits). */
  softLen = 0;
  /** Compile hot flat-32 code to JavaScript (jit/). */
  jitEnabled: boolean;
  /** Interpreted instructions in a frame before it is compiled; 0 = compile every block at once (tests). */
  jitThreshold = JIT_THRESHOLD;
  /** Regions this CPU compiled (statistics). */
  jitCompiles = 0;
  /** Triple-faulted: stays shut down until reset. */
  shutdown = false;
  /** Results of task.readTssStack. */
  tssSs = 0;
  tssEsp = 0;
  /** Scratch for the incoming TSS image (task.ts). */
  readonly tssImage = new Int32Array(19);
  /** Scratch for POPA. */
  readonly scratch8 = new Int32Array(8);
  /** Result of msr.msrRead. */
  msrLo = 0;
  msrHi = 0;
  /** FERR# output (CR0.NE = 0 and an unmasked x87 exception): the platform routes it (IRQ13). */
  onFerr: (() => void) | null = null;
  /** MmioBus generation the TLB was filled under. */
  mmioGen = -1;
  /** Debugging aid: called for every event delivery (vector, error code, kind, EIP). */
  eventHook: ((vector: number, errorCode: number, kind: number, eip: number) => void) | null = null;
  // ---- fault plumbing (fault.ts)
  excVec = 0;
  excErr = -1;
  excCr2 = 0;
  /** The pending #PF is an explicit access into the PV hypervisor hole (controls.pvHoleStart). */
  excHole = false;
  /** Linear address of the pending read-modify-write (mem.ts rmw*). */
  rmwLin = 0;
  // ---- the machine around the CPU
  readonly mem: MachineMemory;
  readonly memU8: Uint8Array;
  readonly memView: DataView;
  readonly ports: PortBus;
  readonly mmio: MmioBus;
  readonly cache: CodeCache;
  readonly clock: Clock;
  readonly fpu: Fpu | null;
  intr: InterruptController | null;
  readonly cpuidModel: CpuidModel;
  /** Leaf-1 EDX as reported (model bits masked by what is attached). */
  readonly cpuidEdx1: number;
  readonly controls = new ExecControls();
  readonly exit = new ExitInfo();
  /** Scratch for CPUID results. */
  readonly cpuidOut = new Int32Array(4);
  /** One reusable FPU environment and memory adapter (no allocation per ESC instruction). */
  readonly fpuEnv: FpuEnvImpl;
  readonly fpuMem: FpuMemImpl;

  constructor(opts: CpuOptions) {
    this.mem = opts.memory;
    this.memU8 = this.mem.u8;
    this.memView = this.mem.view;
    this.clock = opts.clock;
    this.ports = opts.ports ?? new PortBus();
    this.mmio = opts.mmio ?? new MmioBus();
    this.cache = CodeCache.for(this.mem);
    this.tlb = opts.tlb ?? new Tlb();
    this.tlbE = this.tlb.e;
    this.cache.attachTlb(this.tlb);
    this.fpu = opts.fpu ?? null;
    this.intr = opts.intr ?? null;
    this.tscHz = opts.tscHz ?? 1e9;
    this.jitEnabled = opts.jit ?? true;
    this.regs8 = new Uint8Array(this.regs.buffer);
    this.regs16 = new Uint16Array(this.regs.buffer);
    this.cpuidModel = { ...defaultCpuidModel(), ...opts.cpuid };
    let edx1 = this.cpuidModel.edx1;
    if (this.fpu === null) edx1 &= ~(CPUID_FPU | CPUID_FXSR);
    this.cpuidEdx1 = edx1;
    this.fpuEnv = new FpuEnvImpl(this);
    this.fpuMem = new FpuMemImpl(this);
    if (R8_OFFSET[4] !== 1) throw new Error('register byte layout');
    this.reset();
  }

  /** Power-on / RESET: real mode at F000:FFF0 (linear 0xFFFFFFF0), caches and TLB empty. */
  reset(): void {
    cpuReset(this);
  }

  /**
   * Run until an exit: at most about `budget` more instructions (a block may overrun by
   * up to its length), or an event that ExecControls says exits. See exit.ts.
   */
  run(budget: number): ExitReasonCode {
    return runCpu(this, budget);
  }

  /** Make run() return KICK at the next block boundary (safe to call from device callbacks). */
  requestExit(): void {
    this.pendingEvents |= EV_KICK;
  }

  /** The interrupt controller's INTR may have changed: look at it at the next boundary. */
  checkInterrupts(): void {
    this.pendingEvents |= EV_INTR;
  }

  /** Assert NMI (edge): delivered at the next boundary unless NMIs are blocked. */
  raiseNmi(): void {
    this.nmiPending = true;
    this.pendingEvents |= EV_NMI;
  }

  /** The A20 gate (port 0x92 / keyboard controller). Closing it masks physical bit 20. */
  setA20(enabled: boolean): void {
    const m = enabled ? -1 : ~(1 << 20);
    if (m !== this.a20Mask) {
      this.a20Mask = m;
      this.flushTlb();
    }
  }

  get a20Enabled(): boolean {
    return this.a20Mask === -1;
  }

  // ---- state access for the platform and the hypervisor (cpu_api.ts has the rules)

  /** EFLAGS with the lazy arithmetic flags computed. */
  getEflags(): number {
    return getEflags(this) >>> 0;
  }

  /** Replace EFLAGS (no privilege checks: the host may set anything; VM enters VM86). */
  setEflags(value: number): void {
    cpuWriteEflags(this, value, -1);
  }

  getSegment(sreg: number): SegmentState {
    return {
      selector: this.segSel[sreg]! & 0xffff,
      base: this.segBase[sreg]! >>> 0,
      limit: this.segLimit[sreg]! >>> 0,
      attr: this.segAttr[sreg]!,
    };
  }

  /** Load a segment register's visible and hidden parts verbatim (host-side, no checks). */
  setSegment(sreg: number, s: SegmentState): void {
    cpuSetSegment(this, sreg, s);
  }

  /**
   * Load a segment register from a selector as MOV Sreg would at the current CPL, reading
   * the GDT/LDT through paging. Returns null on success, or the fault that MOV would raise
   * as { vector, errorCode }; CPU state is unchanged on failure.
   */
  loadSegment(sreg: number, selector: number): { vector: number; errorCode: number } | null {
    return cpuLoadSegment(this, sreg, selector);
  }

  /** MOV to CR0/CR3/CR4 semantics (TLB flushes, PDPTE loads). False if it would #GP. */
  setCr0(v: number): boolean {
    return cpuSetCr0(this, v);
  }

  setCr3(v: number): boolean {
    return cpuSetCr3(this, v);
  }

  setCr4(v: number): boolean {
    return cpuSetCr4(this, v);
  }

  readMsr(index: number): MsrResult {
    return cpuReadMsr(this, index);
  }

  /** False if WRMSR would #GP. */
  writeMsr(index: number, lo: number, hi: number): boolean {
    return cpuWriteMsr(this, index, lo, hi);
  }

  /** Drop every cached translation (the hypervisor changed page tables behind the guest). */
  flushTlb(): void {
    this.tlb.flushAll();
    this.fetchPage = -1;
  }

  invlpg(linear: number): void {
    this.tlb.flushPage(linear >>> 12);
    this.fetchPage = -1;
  }

  /** Translate a linear address as an access would (no side effects on failure). */
  translate(linear: number, write: boolean, user: boolean): TranslateResult {
    return cpuTranslate(this, linear, write, user);
  }

  /** Copy guest-linear memory out (copy_from_guest); false if a page is not accessible. */
  readLinear(linear: number, out: Uint8Array, user: boolean): boolean {
    return cpuReadLinear(this, linear, out, user);
  }

  /** Copy into guest-linear memory (copy_to_guest), keeping decoded code coherent. */
  writeLinear(linear: number, data: Uint8Array, user: boolean): boolean {
    return cpuWriteLinear(this, linear, data, user);
  }

  /**
   * Inject an event to be delivered through the guest IDT at the next run() (HVM; also
   * usable in BARE). type: 0 external interrupt, 2 NMI, 3 hardware exception, 4 software
   * interrupt (insnLength bytes are skipped, as VMX entry does).
   */
  injectEvent(vector: number, type: number, errorCode = -1, insnLength = 0): void {
    cpuInjectEvent(this, vector, type, errorCode, insnLength);
  }

  saveState(): CpuSnapshot {
    return saveCpuState(this);
  }

  loadState(s: CpuSnapshot): void {
    loadCpuState(this, s);
  }

  /** True if machine address `ma` is not plain RAM (device region or outside memory). */
  mmioFrame(ma: number): boolean {
    return ma < 0 || ma >= this.mem.size || this.mmio.claimsFrame(ma);
  }

  /** Recompute the TLB masks (on every change of CPL, CR0.AM or EFLAGS.AC). */
  updateMasks(): void {
    this.alignCheck = this.cpl === 3 && (this.cr0 & 0x40000) !== 0 && (this.flags & 0x40000) !== 0;
    if (this.alignCheck || this.watch !== 0) {
      // every access takes the slow path, which checks alignment and data breakpoints
      this.rdMask = 0;
      this.wrMask = 0;
    } else if (this.cpl === 3) {
      this.rdMask = T_VALID | T_MMIO | T_NOUSER | T_HOLE;
      this.wrMask = T_VALID | T_MMIO | T_NOUSER | T_ROUSER | 32 /* T_CODE */ | T_HOLE;
    } else {
      this.rdMask = T_VALID | T_MMIO | T_HOLE;
      this.wrMask = T_VALID | T_MMIO | T_ROSUP | 32 /* T_CODE */ | T_HOLE;
    }
  }

  /** Read `size` bytes at a linear address with the current privilege (tests, FPU). */
  readLin(lin: number, size: 1 | 2 | 4): number {
    return rdLin(this, lin | 0, size);
  }

  writeLin(lin: number, size: 1 | 2 | 4, v: number): void {
    wrLin(this, lin | 0, size, v | 0);
  }
}

/** FpuMemory over the CPU's linear accessors (current privilege; faults propagate). */
class FpuMemImpl implements FpuMemory {
  constructor(private readonly _c: Cpu) {}
  read8(l: number): number { return rdLin(this._c, l | 0, 1); }
  read16(l: number): number { return rdLin(this._c, l | 0, 2); }
  read32(l: number): number { return rdLin(this._c, l | 0, 4); }
  write8(l: number, v: number): void { wrLin(this._c, l | 0, 1, v); }
  write16(l: number, v: number): void { wrLin(this._c, l | 0, 2, v); }
  write32(l: number, v: number): void { wrLin(this._c, l | 0, 4, v | 0); }
}

/** The FpuEnv the CPU fills before each ESC instruction. */
class FpuEnvImpl implements FpuEnv {
  operand32 = true;
  protectedMode = false;
  cs = 0;
  eip = 0;
  ds = 0;
  ea = 0;
  constructor(private readonly _c: Cpu) {}
  readEflags(): number {
    return getEflags(this._c);
  }
  writeCompareFlags(zpc: number): void {
    const c = this._c;
    c.flags = (getEflags(c) & ~0x8d5) | (zpc & 0x45);
    c.lazy = 0;
  }
  writeAx(value: number): void {
    this._c.regs16[0] = value;
  }
}

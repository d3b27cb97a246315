/**
 * The hypervisor: owns the emulated machine's memory and time, and composes the services
 * every domain uses (memory manager and page types, domains, event channels, timers and
 * the scheduler, the hypervisor console and trace buffer, the hypercall table).
 *
 * One host thread runs everything: the host calls `runFor(ns)` in slices (yielding to its
 * event loop between them); inside, the run loop (common/sched/run_loop.ts) gives the
 * pCPUs their turns, the scheduler picks vCPUs, and the per-kind runner executes them
 * until their slice ends or they block. Each pCPU keeps its own virtual time
 * (common/sched/pcpu.ts); `time` reads the time of the context that asks.
 *
 * Invariants:
 *  - Domain ids are unique among live and dying domains; DOMID_FIRST_RESERVED and above
 *    are never handed out.
 *  - Only lifecycle methods here change a domain's pause/shutdown/dying state, and each
 *    change is followed by the scheduler's update, so runnability is never stale.
 *  - Time never goes backwards: with a virtual clock the idle loop advances the clock to
 *    the next timer; with a host clock the host waits.
 */
import { VirtualClock, type Clock } from '../hw/clock.ts';
import type { MachineMemory } from '../hw/memory/machine_memory.ts';
import type { PortBus } from '../hw/bus/port_bus.ts';
import { DOMID_FIRST_RESERVED, VIRQ_DOM_EXC } from '../abi/xen.ts';
import { EEXIST, EINVAL, ENOMEM } from '../abi/errno.ts';
import { SHUTDOWN_crash } from '../abi/sched.ts';
import { Mm } from './mm/mm.ts';
import { M2p } from './arch/x86/mm/m2p.ts';
import { PageTypes } from './arch/x86/mm/page_type.ts';
import { Domain, type DomainConfig } from './common/domain.ts';
import { Vcpu, VPF_down } from './common/vcpu.ts';
import { EventChannels, EvtchnDomain } from './common/event_channel.ts';
import { grantTables } from './common/grant_table.ts';
import { Evtchn2l } from './common/event_2l.ts';
import { XenTime } from './common/time.ts';
import { TimerQueue } from './common/timer.ts';
import { SchedCore } from './common/sched/core.ts';
import type { Scheduler } from './common/sched/scheduler.ts';
import { CreditScheduler } from './common/sched/credit.ts';
import { HostPcpuClock, VirtualPcpuClock, type PcpuClock } from './common/sched/pcpu.ts';
import { PCPU_QUANTUM_NS, RunLoop } from './common/sched/run_loop.ts';
import { GuestScratch } from './common/guest_access.ts';
import { HvConsole } from './common/console.ts';
import { TRACE_ORDER, TraceBuffer, TRC_SCHED_SWITCH } from './common/trace.ts';
import { VcpuTimers } from './common/vcpu_timers.ts';
import { PvArch } from './arch/x86/pv/pv_arch.ts';
import { relinquishDomain } from './common/domain_destroy.ts';
import { NativeDomain } from './arch/x86/native.ts';
import { updateVcpuSystemTime } from './common/vcpu_op.ts';
import { destroyWatchdogs } from './common/sched/sched_op.ts';
import { assert } from './util/assert.ts';
import { RangeSet } from './util/rangeset.ts';

/**
 * Virtual-clock CPU time of one native-domain hypercall (with the dom0 work around it: a
 * backend request, a xenstore reply, a domctl): about what a Linux dom0 spends per such
 * unit, and fixed so virtual-clock runs stay deterministic.
 */
export const NATIVE_HYPERCALL_NS = 2_000;

export interface XenOptions {
  readonly memory: MachineMemory;
  readonly clock: Clock;
  /** ns since the Unix epoch at system time 0 (fixed in tests). */
  readonly wallclockBaseNs?: number;
  /** TSC rate of the vCPUs (Hz). */
  readonly tscHz?: number;
  /** Physical CPUs (default 1; the host's default is 2). */
  readonly pcpus?: number;
  /** Scheduling policy (default: the credit scheduler). */
  readonly scheduler?: Scheduler;
  /** Most virtual ns one pCPU runs ahead of another (the run loop's quantum). */
  readonly pcpuQuantumNs?: number;
  /** Frames kept out of the heap at the bottom of memory. */
  readonly reservedLowFrames?: number;
  /** Virtual ns per guest instruction, to size slices in instructions (virtual clock: exact). */
  readonly nsPerInstruction?: number;
  /** System time when the clock reads 0 (ns; default 0): how long "Xen has been up". */
  readonly systemTimeBaseNs?: number;
  /** Every hypervisor console line also goes here (the host's log), besides the ring. */
  readonly consoleSink?: (line: string) => void;
  /**
   * The machine's I/O port space (platform devices Xen leaves to its domains). A domain
   * granted ports (domctl ioport_permission) reaches them through the emulated in/out;
   * without a bus every port reads all-ones.
   */
  readonly ports?: PortBus;
}

/** Listener for domain state changes (the host / toolstack glue). */
export interface DomainListener {
  shutdown?(d: Domain, reason: number): void;
  destroyed?(domid: number): void;
}

export class Xen {
  readonly mem: MachineMemory;
  readonly clock: Clock;
  readonly time: XenTime;
  readonly timers = new TimerQueue();
  readonly mm: Mm;
  readonly m2p: M2p;
  readonly pageTypes: PageTypes;
  readonly evtBits: Evtchn2l;
  readonly evtchn: EventChannels;
  readonly sched: SchedCore;
  /** The clock every hypervisor context and vCPU reads (per-pCPU local time, or global). */
  readonly sysClock: PcpuClock;
  readonly loop: RunLoop;
  readonly vcpuTimers: VcpuTimers;
  readonly console: HvConsole;
  readonly trace: TraceBuffer;
  readonly scratch = new GuestScratch();
  readonly pv: PvArch;
  readonly nsPerInstruction: number;
  readonly ports: PortBus | null;
  /**
   * Hypervisor frames a privileged domain may map as DOMID_XEN's (Xen's
   * share_xen_page_with_privileged_guests): the trace buffer.
   */
  readonly sharedXenFrames = new RangeSet();
  /** Work units done by the current guest hypercall (hypercall.ts preemption). */
  hcWork = 0;
  /** The current hypercall is a PV guest's own top-level one (it may be continued). */
  hcPreemptible = false;
  readonly listeners: DomainListener[] = [];
  private readonly _domains = new Map<number, Domain>();
  private _nextDomid = 1;

  constructor(opts: XenOptions) {
    this.mem = opts.memory;
    this.clock = opts.clock;
    this.ports = opts.ports ?? null;
    this.nsPerInstruction = opts.nsPerInstruction ?? (opts.clock instanceof VirtualClock ? opts.clock.nsPerInstruction : 1);
    const base = opts.systemTimeBaseNs ?? 0;
    this.sysClock = opts.clock.virtual
      ? new VirtualPcpuClock(this.nsPerInstruction, base, opts.clock.nowNs() + base)
      : new HostPcpuClock(opts.clock, base);
    this.time = new XenTime(this.sysClock, opts.memory, opts.tscHz ?? 1e9, opts.wallclockBaseNs ?? 0, base);
    this.console = new HvConsole(opts.consoleSink);
    this.mm = new Mm(opts.memory, { reservedLowFrames: opts.reservedLowFrames ?? 256 });
    const traceMfn = this.mm.allocXenPages(TRACE_ORDER);
    assert(traceMfn >= 0, 'no memory for the trace buffer');
    // pCPU clocks and the global time differ by up to a quantum: records stay in time order.
    let lastTrace = 0;
    this.trace = new TraceBuffer(opts.memory.view, traceMfn * 4096, () => (lastTrace = Math.max(lastTrace, this.time.now())));
    this.sharedXenFrames.add(traceMfn, traceMfn + (1 << TRACE_ORDER) - 1);
    this.mm.onDomainEmpty = (domid) => this._domainFreed(domid);
    this.m2p = new M2p(this.mm);
    this.pv = new PvArch(this);
    // Virtual time is the guests' retired instructions (plus idle skips), per pCPU; the
    // host's VirtualClock follows the global time.
    const sys = this.sysClock;
    if (sys instanceof VirtualPcpuClock) {
      sys.attach(this.pv);
      if (opts.clock instanceof VirtualClock) {
        const nsPi = opts.clock.nsPerInstruction;
        opts.clock.attach({ get instructions(): number { return (sys.global - base) / nsPi; } });
      }
    }
    this.pageTypes = new PageTypes(this.mm, this.pv.pageTypeHooks());
    this.evtBits = new Evtchn2l(opts.memory, {
      kick: (v) => this.vcpuKick(v),
      wakePoller: (v) => this.vcpuTimers.pollWake(v),
    });
    this.evtchn = new EventChannels(this.evtBits, { domain: (id) => this._domains.get(id) });
    const pcpus = opts.pcpus ?? 1;
    this.sched = new SchedCore(opts.scheduler ?? new CreditScheduler(), pcpus, this.sysClock, {
      contextSwitch: (prev, next, now) => this._contextSwitch(prev, next, now),
      preempt: (v) => this.pv.preempt(v),
    });
    const pv = this.pv;
    const sysClock = this.sysClock;
    // With host time a turn's budget is converted at the measured emulation speed, so a
    // 100 us turn takes about 100 us (slices, ticks and cap budgets stay close to real time).
    let hostInsnPerNs = 1 / this.nsPerInstruction;
    this.loop = new RunLoop(this.sched, this.sysClock, this.timers, {
      runVcpu: (v, ns) => {
        if (sysClock.virtual) {
          pv.runVcpu(v, Math.max(1, Math.ceil(ns / this.nsPerInstruction)));
          return;
        }
        const i0 = pv.instructions, t0 = sysClock.now();
        pv.runVcpu(v, Math.max(1, Math.ceil(ns * hostInsnPerNs)));
        const di = pv.instructions - i0, dt = sysClock.now() - t0;
        if (dt > 20_000 && di > 1000) hostInsnPerNs = 0.8 * hostInsnPerNs + 0.2 * (di / dt);
      },
      nativeDeadline: () => {
        // A drain that re-kicked a vCPU it had already taken can leave a stale deadline.
        if (pv.nativePending.size === 0) pv.nativeDeadline = Infinity;
        return pv.nativeDeadline;
      },
      nativePending: () => pv.nativePending.size > 0,
    }, opts.pcpuQuantumNs ?? PCPU_QUANTUM_NS);
    this.vcpuTimers = new VcpuTimers(this);
    this.console.printk(`Xen version ${this.versionString()} (tsxen) booting, ${this.mm.frames} frames of RAM`);
  }

  versionString(): string {
    return '4.17.0';
  }

  // ---- domains ---------------------------------------------------------------------------

  domain(domid: number): Domain | undefined {
    return this._domains.get(domid);
  }

  get domains(): IterableIterator<Domain> {
    return this._domains.values();
  }

  /** Create a paused domain with no vCPUs and no memory (domctl createdomain). */
  createDomain(cfg: DomainConfig, domid?: number): Domain | number {
    let id = domid ?? 0;
    if (domid === undefined) {
      id = this._allocDomid();
      if (id < 0) return -ENOMEM;
    } else if (!(domid >= 0 && domid < DOMID_FIRST_RESERVED)) {
      return -EINVAL;
    } else if (this._domains.has(domid)) {
      return -EEXIST;
    }
    const d = new Domain(id, cfg);
    d.evtchn = new EvtchnDomain();
    const si = this.mm.allocSpecialPage(d);
    if (si < 0) return -ENOMEM;
    d.sharedInfoMfn = si;
    this.mm.registerDomain(d);
    this._domains.set(id, d);
    if (typeof grantTables(this).init(d) === 'number') {
      grantTables(this).destroy(id);
      this._domains.delete(id);
      this.mm.unregisterDomain(id);
      this.mm.dropAllocation(si);
      return -ENOMEM;
    }
    if (d.kind === 'pv') {
      const rc = this.pv.domainCreate(d);
      if (rc !== 0) {
        grantTables(this).destroy(id);
        this._domains.delete(id);
        this.mm.unregisterDomain(id);
        this.mm.dropAllocation(si);
        return rc;
      }
    }
    this.time.updateWallclock(d);
    this.console.printk(`d${id}: created (${d.kind}${d.privileged ? ', privileged' : ''})`);
    return d;
  }

  /**
   * Build a native domain (dom0, a driver domain): `ramPages` frames at pfns 0.., one vCPU
   * (never scheduled: its "code" is the host's), unpaused. Returns it or -errno.
   */
  createNativeDomain(domid: number, ramPages: number, privileged: boolean): Domain | number {
    const d = this.createDomain({ kind: 'native', privileged }, domid);
    if (typeof d === 'number') return d;
    d.native = new NativeDomain(this.mem);
    d.maxPages = ramPages;
    let rc = d.native.allocRam(this, d, ramPages);
    if (rc === 0) rc = this.setMaxVcpus(d, 1);
    if (rc !== 0) {
      this.destroyDomain(d);
      return rc;
    }
    const v = d.vcpus[0]!; // SAFETY: setMaxVcpus(d, 1) succeeded
    v.pauseFlags &= ~VPF_down;
    this.unpauseDomain(d);
    return d;
  }

  /** XEN_DOMCTL_max_vcpus: create vCPUs 0..n-1 (once; they start down). */
  setMaxVcpus(d: Domain, n: number): number {
    if (d.vcpus.length > 0) return n === d.vcpus.length ? 0 : -EINVAL;
    const limit = d.kind === 'pv' ? this.pv.maxVcpus : 32;
    if (!(n >= 1 && n <= limit)) return -EINVAL;
    const now = this.time.now();
    for (let i = 0; i < n; i++) {
      const v = new Vcpu(d, i, now);
      v.vcpuInfoMa = i < 32 ? d.sharedInfoMfn * 4096 + i * 64 : -1;
      // A fresh vcpu_info has events masked (the guest unmasks when ready).
      if (v.vcpuInfoMa >= 0) this.mem.u8[v.vcpuInfoMa + 1] = 1;
      d.vcpus.push(v);
      if (d.kind === 'pv') {
        const rc = this.pv.vcpuCreate(v);
        if (rc !== 0) return rc;
      }
      this.vcpuTimers.init(v);
      // Native vCPUs are the host's own code: never on the scheduler's run queues.
      if (d.kind !== 'native') this.sched.add(v);
      this.time.updateVcpuTime(v);
    }
    d.maxVcpus = n;
    return 0;
  }

  pauseDomain(d: Domain): void {
    d.pauseCount++;
    this.sched.updateDomain(d);
  }

  unpauseDomain(d: Domain): boolean {
    if (d.pauseCount === 0) return false;
    d.pauseCount--;
    this.sched.updateDomain(d);
    return true;
  }

  /** domain_shutdown: the guest (or a privileged domain) stops it with a reason. */
  shutdownDomain(d: Domain, reason: number): void {
    if (d.isShutDown || d.dying) return;
    // SCHEDOP_shutdown_code latches the reason the domain reports, whatever stops it.
    if (d.latchedShutdownCode >= 0) reason = d.latchedShutdownCode;
    d.isShuttingDown = true;
    d.isShutDown = true;
    d.shutdownCode = reason;
    this.sched.updateDomain(d);
    this.console.printk(`d${d.domid}: shutdown, reason ${shutdownName(reason)}`);
    const dom0 = this._controlDomain();
    if (dom0 !== undefined) this.evtchn.sendGlobalVirq(dom0, VIRQ_DOM_EXC);
    for (const l of this.listeners) l.shutdown?.(d, reason);
  }

  /** domain_crash: tier-2 error, a fatal guest misbehaviour. Only that domain stops. */
  crashDomain(d: Domain, why: string): void {
    if (d.isShutDown || d.dying) return;
    d.crashReason = why;
    this.console.printk(`d${d.domid}: domain crashed: ${why}`);
    this.shutdownDomain(d, SHUTDOWN_crash);
  }

  /** domain_resume after suspend: let a shut-down domain run again (used by suspend cancel). */
  resumeDomain(d: Domain): void {
    if (!d.isShutDown || d.dying) return;
    d.isShutDown = false;
    d.isShuttingDown = false;
    d.shutdownCode = -1;
    this.sched.updateDomain(d);
  }

  /** domain_kill: release everything; the domain disappears when its last frame is freed. */
  destroyDomain(d: Domain): void {
    if (d.dying) return;
    d.dying = true;
    for (const v of d.vcpus) if (v) this.vcpuTimers.destroy(v);
    destroyWatchdogs(this, d);
    this.sched.removeDomain(d);
    relinquishDomain(this, d);
    this.console.printk(`d${d.domid}: destroyed`);
    if (d.totPages === 0) this._domainFreed(d.domid);
  }

  // ---- event kick / vCPU helpers ----------------------------------------------------------

  /** vcpu_kick: an upcall became pending; wake a blocked vCPU, poke a native one. */
  vcpuKick(v: Vcpu): void {
    if (v.domain.kind === 'native') {
      this.pv.nativeKick(v);
      return;
    }
    this.sched.unblock(v);
  }

  // ---- native domains' CPU time (docs/scheduling.md "dom0's CPU time") ---------------------

  /**
   * The host starts work on behalf of native domain `d` (its upcalls, its API requests):
   * its vCPU runs until the matching nativeEnd. Brackets nest; allocation-free.
   */
  nativeBegin(d: Domain): void {
    const v = d.vcpus[0];
    if (v && d.kind === 'native') this.sched.nativeBegin(v);
  }

  nativeEnd(d: Domain): void {
    const v = d.vcpus[0];
    if (v && d.kind === 'native') this.sched.nativeEnd(v);
  }

  /**
   * A native vCPU made a hypercall: with the virtual clock (frozen while the host works)
   * that unit of work costs NATIVE_HYPERCALL_NS of its CPU time; with the host clock its
   * brackets measure host time and hypercalls cost nothing extra.
   */
  nativeHypercall(v: Vcpu): void {
    if (this.sysClock.virtual) this.sched.nativeCharge(v, NATIVE_HYPERCALL_NS);
  }

  private _controlDomain(): Domain | undefined {
    return this._domains.get(0);
  }

  private _allocDomid(): number {
    for (let n = 0; n < DOMID_FIRST_RESERVED; n++) {
      const id = this._nextDomid;
      this._nextDomid = id + 1 >= DOMID_FIRST_RESERVED ? 1 : id + 1;
      if (!this._domains.has(id)) return id;
    }
    return -1;
  }

  private _domainFreed(domid: number): void {
    const d = this._domains.get(domid);
    if (d === undefined || !d.dying) return;
    assert(d.totPages === 0, () => `d${domid} freed with ${d.totPages} pages`);
    this._domains.delete(domid);
    this.mm.unregisterDomain(domid);
    for (const l of this.listeners) l.destroyed?.(domid);
  }

  private _contextSwitch(prev: Vcpu | null, next: Vcpu | null, now: number): void {
    this.trace.record(TRC_SCHED_SWITCH, prev ? prev.domain.domid * 65536 + prev.id : -1, next ? next.domain.domid * 65536 + next.id : -1);
    if (prev !== null) {
      this.vcpuTimers.switchedOut(prev);
      this.pv.switchOut(prev, now);
    }
    if (next !== null) {
      updateVcpuSystemTime(this, next);
      this.vcpuTimers.periodicWork(next);
      this.pv.switchIn(next, now);
    }
  }

  // ---- running ------------------------------------------------------------------------------

  /**
   * Run the machine for about `ns` of system time (or until nothing is runnable and no
   * timer is due within it). Returns the system time reached. With a virtual clock, idle
   * periods advance the clock to the next event. Returns early when a native domain has
   * an upcall to run (the caller runs it, runNativeUpcalls, and calls again).
   */
  runFor(ns: number): number {
    return this.loop.runFor(ns);
  }

  /** True if some guest vCPU can run (native domains' code is the host's, not counted). */
  hasRunnable(): boolean {
    for (const d of this._domains.values()) {
      if (d.kind === 'native') continue;
      for (const v of d.vcpus) if (v && v.runnable()) return true;
    }
    // A vCPU the scheduler parked (credit cap) runs again when its budget refills.
    return this.sched.policy.hasPending();
  }
}

export function shutdownName(reason: number): string {
  return ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'][reason] ?? `unknown(${reason})`;
}

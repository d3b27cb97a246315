/**
 * The embedded host: one emulated machine with the hypervisor booted on it and dom0 (a
 * native TypeScript domain) connected to it through its hypercall port. This is the only
 * module that imports both src/xen and src/dom0; everything dom0 does goes through the
 * port (src/dom0/libxc/port.ts).
 *
 * Running: the host drives the hypervisor in slices of system time (`step`), delivering
 * dom0's event upcalls between slices, and yields to the Node event loop between slices
 * so timers, stdin and signals are served. With a virtual clock an idle machine jumps to
 * its next timer; with the host clock it sleeps until then.
 *
 * dom0's CPU time: dom0's vCPU is blocked except while the host works for it — its
 * upcalls (runNativeUpcalls brackets them), the event-loop turns between slices
 * (serveDom0), API requests (the daemon wraps them in dom0Work). Sleeping while the
 * machine idles is not dom0's work.
 *
 * Invariants: dom0 is domain 0, privileged, native, created before any other domain; the
 * hypervisor never calls into dom0 except through the upcall handler run here.
 */
import { MachineMemory } from '../hw/memory/machine_memory.ts';
import { VirtualClock, type Clock } from '../hw/clock.ts';
import { HostClock } from './bare/host_clock.ts';
import { PortBus } from '../hw/bus/port_bus.ts';
import { SystemControlA, type A20Control } from '../devices/a20.ts';
import { Xen } from '../xen/xen.ts';
import type { Domain } from '../xen/common/domain.ts';
import { NativePort, runNativeUpcalls } from '../xen/arch/x86/native.ts';
import { Xc } from '../dom0/libxc/xc.ts';
import { Dom0Events } from '../dom0/libxc/events.ts';
import { ConsoleBackend } from '../dom0/console/console_backend.ts';
import { Toolstack } from '../dom0/toolstack/toolstack.ts';
import { XenStored } from '../dom0/xenstored/xenstored.ts';
import { XsLocalHandle } from '../dom0/xenstored/local_handle.ts';
import { XcPlatform } from '../dom0/xenstored/xc_platform.ts';
import { makeScheduler } from '../xen/common/sched/make.ts';

export interface HostOptions {
  /** Machine RAM in MiB (default 256). */
  readonly memoryMiB?: number;
  /** 'virtual' (deterministic: 1 ns per retired instruction by default) or 'host'. */
  readonly clock?: 'virtual' | 'host' | Clock;
  /** Virtual ns per instruction for the virtual clock (default 1). */
  readonly nsPerInstruction?: number;
  /** dom0's own RAM in pages (scratch buffers; default 256 = 1 MiB). */
  readonly dom0Pages?: number;
  /** Hypervisor console lines (what `xl dmesg` shows) also go here. */
  readonly xenLog?: (line: string) => void;
  /** Wallclock at system time 0 (ns since the epoch; default: the host's time now, less the base). */
  readonly wallclockBaseNs?: number;
  readonly tscHz?: number;
  /** System time at machine start (default 1 s). */
  readonly systemTimeBaseNs?: number;
  /** xenstored's diagnostics (ignored connections, XS_CONTROL print). */
  readonly storeLog?: (line: string) => void;
  /** Physical CPUs the guests run on (default 2; docs/scheduling.md). */
  readonly pcpus?: number;
  /** Scheduling policy: 'credit' (default, Xen's credit scheduler) or 'rr' (round robin). */
  readonly scheduler?: 'credit' | 'rr';
}

export type RunEnd = 'done' | 'idle' | 'timeout' | 'limit';

export interface RunOptions {
  /** Stop after this much host time. */
  readonly timeoutMs?: number;
  /** Stop when system time reaches this (ns). */
  readonly maxSystemNs?: number;
  /** System time per slice (default 10 ms). */
  readonly sliceNs?: number;
}

export class Host {
  readonly xen: Xen;
  /** The machine's I/O ports that domains can be granted (xl ioports=). */
  readonly ports: PortBus;
  readonly dom0: Domain;
  readonly port: NativePort;
  readonly xc: Xc;
  readonly events: Dom0Events;
  readonly consoles: ConsoleBackend;
  readonly toolstack: Toolstack;
  /** dom0's xenstored (rings foreign-mapped, store channels bound interdomain; docs/xenstore.md). */
  readonly xenstored: XenStored;
  /** A privileged in-process connection to it (dom0's own xenstore handle). */
  readonly xs: XsLocalHandle;
  /** Which clock drives the machine ('custom': a Clock the caller passed). */
  readonly clockKind: 'virtual' | 'host' | 'custom';
  /**
   * Backends whose host I/O in flight must finish before virtual time moves on (a guest
   * must not time out on a disk request the host completes in microseconds;
   * docs/split-drivers.md "Virtual time"). SplitDrivers is one.
   */
  readonly ioSources: Array<{ busy(): boolean; settled(): Promise<void> }> = [];

  constructor(opts: HostOptions = {}) {
    const memory = new MachineMemory((opts.memoryMiB ?? 256) * 1024 * 1024);
    let clock: Clock;
    if (opts.clock === undefined || opts.clock === 'virtual') clock = new VirtualClock(opts.nsPerInstruction ?? 1);
    else if (opts.clock === 'host') clock = new HostClock();
    else clock = opts.clock;
    this.clockKind = opts.clock === undefined || opts.clock === 'virtual' ? 'virtual' : opts.clock === 'host' ? 'host' : 'custom';
    // Guests start "a while" after the hypervisor did, as under a real dom0.
    const base = opts.systemTimeBaseNs ?? 1e9;
    this.ports = platformPorts();
    this.xen = new Xen({
      memory, clock, consoleSink: opts.xenLog, tscHz: opts.tscHz, systemTimeBaseNs: base, ports: this.ports,
      wallclockBaseNs: opts.wallclockBaseNs ?? Date.now() * 1e6 - base,
      pcpus: opts.pcpus ?? 2, scheduler: makeScheduler(opts.scheduler ?? 'credit'),
    });
    const d0 = this.xen.createNativeDomain(0, opts.dom0Pages ?? 256, true);
    if (typeof d0 === 'number') throw new Error(`cannot create dom0: ${d0}`);
    this.dom0 = d0;
    this.port = new NativePort(this.xen, d0);
    this.xc = new Xc(this.port);
    this.events = new Dom0Events(this.xc);
    this.consoles = new ConsoleBackend(this.xc, this.events);
    this.xenstored = new XenStored({ platform: new XcPlatform(this.xc, this.events), log: opts.storeLog });
    this.xs = new XsLocalHandle(this.xenstored);
    this.toolstack = new Toolstack(this.xc, this.events, this.consoles, { now: () => this.xen.time.now() });
  }

  /**
   * The host works for dom0 (dom0 is this process) from now until dom0Idle(): dom0's vCPU
   * runs meanwhile, so its CPU time is the host time spent (host clock) or its hypercalls'
   * fixed cost (virtual clock). Nestable; every dom0Busy needs its dom0Idle.
   */
  dom0Busy(): void {
    this.xen.nativeBegin(this.dom0);
  }

  dom0Idle(): void {
    this.xen.nativeEnd(this.dom0);
  }

  /** Run `fn` (its synchronous part) as dom0's work. */
  dom0Work<T>(fn: () => T): T {
    this.dom0Busy();
    try {
      return fn();
    } finally {
      this.dom0Idle();
    }
  }

  /**
   * Yield to the Node event loop between slices: what runs there (backend I/O completions,
   * API requests, consoles) is this process's, i.e. dom0's, work.
   */
  async serveDom0(): Promise<void> {
    this.dom0Busy();
    try {
      await yieldToEventLoop();
    } finally {
      this.dom0Idle();
    }
  }

  /** Run one slice of system time and deliver dom0's events. Returns the time reached. */
  step(sliceNs = 10_000_000): number {
    const t = this.xen.runFor(sliceNs);
    runNativeUpcalls(this.xen);
    return t;
  }

  /** True when nothing can happen any more without outside input (no runnable vCPU, no timer). */
  idle(): boolean {
    return !this.xen.hasRunnable() && this.xen.timers.nextDeadline() === Infinity && this.xen.pv.nativePending.size === 0;
  }

  /** Run until `done()` (checked between slices), the machine idles for good, or a limit. */
  async runUntil(done: () => boolean, opts: RunOptions = {}): Promise<RunEnd> {
    const t0 = Date.now();
    const slice = opts.sliceNs ?? 10_000_000;
    const virtual = this.xen.clock instanceof VirtualClock;
    for (;;) {
      if (done()) return 'done';
      if (virtual && !this.xen.hasRunnable() && this.xen.pv.nativePending.size === 0) {
        const io = this.ioSources.find((x) => x.busy());
        if (io !== undefined) {
          // The wait is the device's latency: charge it to virtual time (up to the next
          // timer), or a guest's disk benchmark would see free I/O and never end.
          const w0 = performance.now();
          await io.settled();
          const to = Math.min(this.xen.time.now() + (performance.now() - w0) * 1e6, this.xen.timers.nextDeadline());
          if (to > this.xen.time.now()) this.xen.time.advanceTo(to);
          continue;
        }
      }
      const now = this.step(slice);
      if (done()) return 'done';
      if (opts.maxSystemNs !== undefined && now >= opts.maxSystemNs) return 'limit';
      if (opts.timeoutMs !== undefined && Date.now() - t0 >= opts.timeoutMs) return 'timeout';
      if (this.idle() && !this.ioSources.some((x) => x.busy())) return 'idle';
      if (!virtual && !this.xen.hasRunnable()) {
        const wait = (this.xen.timers.nextDeadline() - this.xen.time.now()) / 1e6;
        await sleep(Math.max(0, Math.min(wait, 50)));
      } else {
        await this.serveDom0();
      }
    }
  }
}

/**
 * The legacy platform ports a PC keeps after firmware and Xen took theirs: system control
 * port A (0x92, A20 open; Xen ignores a guest's reset request through it).
 */
function platformPorts(): PortBus {
  const ports = new PortBus();
  const a20: A20Control = { a20Enabled: true, setA20: () => undefined, reset: () => undefined };
  ports.register(0x92, 1, new SystemControlA(a20), 'system control A');
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

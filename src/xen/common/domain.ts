/**
 * A domain: an isolated guest with its own memory, vCPUs, event channels and permissions.
 *
 * Lifecycle (Xen's): created paused by the toolstack (pauseCount 1) -> unpaused -> running
 * -> shut down (the guest's SCHEDOP_shutdown, or a crash) -> destroyed by the toolstack
 * (domctl destroydomain): `dying` is set, every resource is relinquished, and the domain
 * disappears from the domain list when its last frame is back in the heap.
 *
 * Kinds:
 *   pv      an x86-32 PAE paravirtualized guest: real machine code on the CPU, ring 1.
 *   native  a TypeScript domain in the host process (dom0, driver domains): it has real
 *           frames and a shared_info page but no CPU; its "guest addresses" are offsets in
 *           its pseudo-physical space (see arch/x86/native.ts).
 *   hvm     (later issue) a hardware-assisted guest.
 *
 * Invariants:
 *  - domid < DOMID_FIRST_RESERVED; `vcpus[i]?.id === i`.
 *  - isShutDown implies shutdownCode >= 0; a dying domain runs nothing.
 *  - Permission rangesets only grow through domctl from a privileged domain.
 */
import type { MemDomain } from '../mm/mm.ts';
import type { PtDomain } from '../arch/x86/mm/page_type.ts';
import { RangeSet } from '../util/rangeset.ts';
import type { Vcpu } from './vcpu.ts';
import type { EvtchnDomain } from './event_channel.ts';
import type { PvDomain } from '../arch/x86/pv/pv_domain.ts';
import type { NativeDomain } from '../arch/x86/native.ts';

export type DomainKind = 'pv' | 'native' | 'hvm';

export interface DomainConfig {
  readonly kind: DomainKind;
  /** May use domctl/sysctl and map foreign frames (Xen's control domain). */
  readonly privileged?: boolean;
  readonly maxVcpus?: number;
  readonly handle?: Uint8Array;
  readonly ssidref?: number;
}

export class Domain implements MemDomain, PtDomain {
  readonly kind: DomainKind;
  readonly privileged: boolean;
  readonly handle = new Uint8Array(16);
  ssidref: number;

  maxPages = 0;
  totPages = 0;
  dying = false;
  /** Controller pauses (domctl pausedomain); a new domain starts with 1. */
  pauseCount = 1;
  isShuttingDown = false;
  isShutDown = false;
  /** SHUTDOWN_* reason, -1 while running. */
  shutdownCode = -1;
  /** Reason latched by SCHEDOP_shutdown_code for a later crash/shutdown. */
  latchedShutdownCode = -1;
  /** Why the hypervisor crashed it (tier-2 errors), for the console and tests. */
  crashReason: string | null = null;
  /** Debugger attached (setdebugging). */
  debugged = false;

  readonly vcpus: Array<Vcpu | null>;
  maxVcpus: number;

  /** The shared_info frame (a special page of this domain). */
  sharedInfoMfn = -1;
  /** VMASST_* bits enabled. */
  vmAssist = 0;
  /** The pseudo-physical e820 the toolstack set (XENMEM_set_memory_map): raw 20-byte entries. */
  e820: Uint8Array | null = null;
  /** domctl settimeoffset: seconds added to the wall clock. */
  timeOffsetSeconds = 0;
  /** Scheduler parameters (credit-style; the basic scheduler only reports them). */
  schedWeight = 256;
  schedCap = 0;

  readonly ioports = new RangeSet();
  readonly iomem = new RangeSet();
  readonly irqs = new RangeSet();

  /** Event channels (set at creation by the event-channel code). */
  evtchn!: EvtchnDomain;
  /** PV state, for kind 'pv'. */
  pv: PvDomain | null = null;
  /** Native-domain state, for kind 'native'. */
  native: NativeDomain | null = null;

  constructor(readonly domid: number, cfg: DomainConfig) {
    this.kind = cfg.kind;
    this.privileged = cfg.privileged ?? false;
    this.maxVcpus = cfg.maxVcpus ?? 0;
    this.vcpus = [];
    this.ssidref = cfg.ssidref ?? 0;
    if (cfg.handle) this.handle.set(cfg.handle.subarray(0, 16));
  }

  get hasIoCaps(): boolean {
    return !this.iomem.empty || !this.ioports.empty;
  }

  iomemPermitted(mfn: number): boolean {
    return this.iomem.contains(mfn);
  }

  vcpu(id: number): Vcpu | null {
    return id >= 0 && id < this.vcpus.length ? this.vcpus[id] ?? null : null;
  }

  get onlineVcpus(): number {
    let n = 0;
    for (const v of this.vcpus) if (v !== null && v.isUp) n++;
    return n;
  }

  toString(): string {
    return `d${this.domid}`;
  }
}

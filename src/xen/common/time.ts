/**
 * Xen system time, the TSC scale guests use to extrapolate it, and the wall clock, written
 * into vcpu_time_info / shared_info with the version protocol (hypercalls-x86_32.md §10.3).
 *
 * System time is the Clock's ns since the machine was created. A guest's TSC is the CPU's
 * (floor(ns * tscHz / 1e9) + 0), so a vcpu_time_info written at time t with
 * tsc_timestamp = TSC(t), system_time = t and the scale of tscHz lets the guest compute
 *   now = system_time + ((rdtsc - tsc_timestamp) << shift) * mul >> 32
 * which matches the Clock exactly (to the ns rounding of the scale): time read from the
 * shared page and from rdtsc agree.
 *
 * Invariants:
 *  - version is odd while a record is being written and increases by 2 per update.
 *  - mul/shift come from Xen's set_time_scale: the tick rate is normalised into
 *    (1e9, 2e9] by the shift, mul = (1e9 << 32) / normalised rate (fits u32).
 */
import type { Clock } from '../../hw/clock.ts';
import {
  SHARED_INFO_ARCH_WC_SEC_HI, SHARED_INFO_WC_NSEC, SHARED_INFO_WC_SEC, SHARED_INFO_WC_VERSION,
  VCPU_INFO_TIME, VCPU_TIME_INFO_FLAGS, VCPU_TIME_INFO_SYSTEM_TIME, VCPU_TIME_INFO_TSC_SHIFT,
  VCPU_TIME_INFO_TSC_TIMESTAMP, VCPU_TIME_INFO_TSC_TO_SYSTEM_MUL, VCPU_TIME_INFO_VERSION,
  XEN_PVCLOCK_TSC_STABLE_BIT,
} from '../../abi/xen.ts';
import type { MachineMemory } from '../../hw/memory/machine_memory.ts';
import type { Domain } from './domain.ts';
import type { Vcpu } from './vcpu.ts';

export interface TimeScale {
  mul: number;
  shift: number;
}

/** Xen's set_time_scale for a tick rate in Hz. */
export function timeScale(ticksPerSec: number): TimeScale {
  let tps = BigInt(Math.round(ticksPerSec));
  let shift = 0;
  while (tps > 2_000_000_000n) {
    tps >>= 1n;
    shift--;
  }
  while (tps <= 1_000_000_000n) {
    tps <<= 1n;
    shift++;
  }
  const mul = Number((1_000_000_000n << 32n) / tps);
  return { mul, shift };
}

/** The guest's formula: ns elapsed for a TSC delta under a scale (tests, the guest side). */
export function scaleDelta(delta: bigint, s: TimeScale): bigint {
  const d = s.shift >= 0 ? delta << BigInt(s.shift) : delta >> BigInt(-s.shift);
  return (d * BigInt(s.mul)) >> 32n;
}

function write64(view: DataView, a: number, x: number): void {
  view.setUint32(a, x % 0x100000000, true);
  view.setUint32(a + 4, Math.floor(x / 0x100000000), true);
}

export class XenTime {
  readonly scale: TimeScale;
  private readonly _view: DataView;

  /**
   * @param tscHz the TSC rate the vCPUs' CPUs run at (Cpu tscHz).
   * @param wallclockBaseNs ns since the Unix epoch at system time 0 (host supplied; fixed
   *   in tests so runs are reproducible).
   */
  /**
   * @param baseNs system time when the clock reads 0 (the host can start the machine "some
   *   time after boot", as a real dom0 creates guests well after Xen started). The vCPUs'
   *   TSC counts from system time 0 too (see tscOffset).
   */
  constructor(readonly clock: Clock, mem: MachineMemory, readonly tscHz: number,
    readonly wallclockBaseNs: number, readonly baseNs = 0) {
    this.scale = timeScale(tscHz);
    this._view = mem.view;
    this.tscOffset = Math.round(baseNs * (tscHz / 1e9));
  }

  /** The TSC offset of every vCPU's CPU (TSC = ticks of the clock + this). */
  readonly tscOffset: number;

  now(): number {
    return this.clock.nowNs() + this.baseNs;
  }

  /** Idle skip of a virtual clock to system time `ns`. */
  advanceTo(ns: number): void {
    // A virtual clock (the pCPU clock, or a bare VirtualClock) can be moved; host time cannot.
    const c: Clock & { advanceTo?: (clockNs: number) => void } = this.clock;
    if (c.virtual) c.advanceTo?.(ns - this.baseNs);
  }

  /** The TSC a vCPU reads at system time `ns`. */
  tscAt(ns: number): number {
    return Math.floor((ns - this.baseNs) * (this.tscHz / 1e9)) + this.tscOffset;
  }

  /** Refresh a vCPU's vcpu_time_info (update_vcpu_system_time). */
  updateVcpuTime(v: Vcpu): void {
    if (v.vcpuInfoMa < 0) return;
    const view = this._view;
    const t = v.vcpuInfoMa + VCPU_INFO_TIME;
    const ver = view.getUint32(t + VCPU_TIME_INFO_VERSION, true);
    const odd = (ver + 1 + ((ver & 1) === 0 ? 0 : 1)) >>> 0;
    view.setUint32(t + VCPU_TIME_INFO_VERSION, odd, true);
    const now = this.now();
    write64(view, t + VCPU_TIME_INFO_TSC_TIMESTAMP, this.tscAt(now));
    write64(view, t + VCPU_TIME_INFO_SYSTEM_TIME, now);
    view.setUint32(t + VCPU_TIME_INFO_TSC_TO_SYSTEM_MUL, this.scale.mul, true);
    view.setInt8(t + VCPU_TIME_INFO_TSC_SHIFT, this.scale.shift);
    view.setUint8(t + VCPU_TIME_INFO_FLAGS, XEN_PVCLOCK_TSC_STABLE_BIT);
    view.setUint32(t + VCPU_TIME_INFO_VERSION, (odd + 1) >>> 0, true);
  }

  /** Write the wall clock at system time 0 into a domain's shared_info (update_domain_wallclock_time). */
  updateWallclock(d: Domain): void {
    if (d.sharedInfoMfn < 0) return;
    const view = this._view;
    const si = d.sharedInfoMfn * 4096;
    const ver = view.getUint32(si + SHARED_INFO_WC_VERSION, true);
    const odd = (ver + 1 + ((ver & 1) === 0 ? 0 : 1)) >>> 0;
    view.setUint32(si + SHARED_INFO_WC_VERSION, odd, true);
    const totalNs = this.wallclockBaseNs + d.timeOffsetSeconds * 1e9;
    const sec = Math.floor(totalNs / 1e9);
    const nsec = Math.round(totalNs - sec * 1e9);
    view.setUint32(si + SHARED_INFO_WC_SEC, sec % 0x100000000, true);
    view.setUint32(si + SHARED_INFO_WC_NSEC, nsec, true);
    view.setUint32(si + SHARED_INFO_ARCH_WC_SEC_HI, Math.floor(sec / 0x100000000), true);
    view.setUint32(si + SHARED_INFO_WC_VERSION, (odd + 1) >>> 0, true);
  }

  /** Wall-clock seconds and ns now (XEN_SYSCTL / the hypervisor console's timestamps). */
  wallclockNow(): { sec: number; nsec: number } {
    const total = this.wallclockBaseNs + this.now();
    const sec = Math.floor(total / 1e9);
    return { sec, nsec: Math.round(total - sec * 1e9) };
  }
}

/**
 * Monotonic host time as a Clock (interactive runs). Reading it costs ~100 ns, so the CPU
 * reads it only for RDTSC and the platform once per run slice.
 */
import type { Clock } from '../../hw/clock.ts';

export class HostClock implements Clock {
  readonly virtual = false;
  private readonly _t0 = process.hrtime.bigint();

  nowNs(): number {
    return Number(process.hrtime.bigint() - this._t0);
  }
}

/**
 * The host's run loop for a long-lived host (the daemon, `create -c`, the demo): run the
 * hypervisor in slices forever, yielding to the Node event loop between slices so the
 * control API, consoles and backends are served there — never inside a slice.
 *
 * Waiting: with the host clock an idle machine sleeps until its next timer (at most
 * MAX_SLEEP_MS, so new work is seen promptly); with the virtual clock a machine with
 * nothing to do at all (no runnable vCPU, no timer) waits for outside input. `wake()`
 * (called on every API request, console input, backend completion) ends a wait at once.
 * While backends have host I/O in flight (`ioBusy`) virtual time does not advance: the
 * loop waits for the I/O instead of jumping to the next timer (docs/split-drivers.md).
 *
 * The event-loop turns between slices are dom0's work (Host.serveDom0: its CPU time); the
 * waits are not.
 *
 * Invariants: one loop per runner; `stop()` resolves after the current slice ended; a
 * slice that throws (a hypervisor bug) stops the loop and reports through `onError`.
 */
import { VirtualClock } from '../hw/clock.ts';
import type { Host } from './host.ts';

const MAX_SLEEP_MS = 50;

export interface IoSource {
  busy(): boolean;
  settled(): Promise<void>;
}

export interface RunnerOptions {
  /** System time per slice (default 10 ms). */
  readonly sliceNs?: number;
  readonly onError?: (e: unknown) => void;
  /** Virtual clock only: nothing can happen any more without outside input (called before each such wait). */
  readonly onIdle?: () => void;
}

export class HostRunner {
  private _running = false;
  private _stopRequested = false;
  private _wakeFn: (() => void) | null = null;
  private _done: Promise<void> = Promise.resolve();
  /** Slices run so far. */
  slices = 0;

  constructor(readonly host: Host, private readonly _opts: RunnerOptions = {}) {}

  get running(): boolean {
    return this._running;
  }

  start(): void {
    if (this._running) return;
    this._running = true;
    this._stopRequested = false;
    this._done = this._loop();
  }

  /** End a wait now (new input for the machine). */
  wake(): void {
    const w = this._wakeFn;
    this._wakeFn = null;
    w?.();
  }

  async stop(): Promise<void> {
    this._stopRequested = true;
    this.wake();
    await this._done;
  }

  /** The host's backends (Host.ioSources) with in-flight host I/O. */
  private _ioBusy(): IoSource | undefined {
    return this.host.ioSources.find((s) => s.busy());
  }

  private async _loop(): Promise<void> {
    const host = this.host;
    const slice = this._opts.sliceNs ?? 10_000_000;
    const virtual = host.xen.clock instanceof VirtualClock;
    try {
      while (!this._stopRequested) {
        if (virtual && !host.xen.hasRunnable()) {
          const io = this._ioBusy();
          if (io !== undefined) {
            await Promise.race([io.settled(), this._sleep(MAX_SLEEP_MS)]);
            continue;
          }
        }
        host.step(slice);
        this.slices++;
        if (this._stopRequested) break;
        if (virtual) {
          if (host.idle()) {
            this._opts.onIdle?.();
            if (!this._stopRequested) await this._sleep(Infinity);
          }
          else await host.serveDom0();
        } else if (!host.xen.hasRunnable()) {
          const waitMs = (host.xen.timers.nextDeadline() - host.xen.time.now()) / 1e6;
          await this._sleep(Math.max(0, Math.min(waitMs, MAX_SLEEP_MS)));
        } else {
          await host.serveDom0();
        }
      }
    } catch (e) {
      this._opts.onError?.(e);
    } finally {
      this._running = false;
    }
  }

  private _sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = ms === Infinity ? null : setTimeout(() => {
        this._wakeFn = null;
        resolve();
      }, ms);
      this._wakeFn = () => {
        if (t !== null) clearTimeout(t);
        resolve();
      };
    });
  }
}

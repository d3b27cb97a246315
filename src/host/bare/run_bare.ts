/**
 * runBare: boot a Multiboot kernel on the bare PC and run it to the end. The programmatic
 * twin of `tsxen bare` (src/cli/commands/bare.ts); tests use it with the virtual clock so
 * every run is deterministic.
 *
 * The run ends when:
 *  - the guest writes value v to the isa-debug-exit port 0xf4: reason 'exit',
 *    exitStatus (v << 1) | 1 -- the status QEMU's process exits with;
 *  - the CPU triple-faults: 'shutdown', status 0 (QEMU -no-reboot);
 *  - the guest asks for a reset (port 0x92 / i8042): 'reset', status 0 (QEMU -no-reboot);
 *  - the CPU halts with interrupts disabled (nothing can wake it) or idles with no timer
 *    armed under the virtual clock: 'halted', status STATUS_STOPPED;
 *  - `maxInstructions` retired: 'limit', status STATUS_STOPPED;
 *  - `timeoutMs` of host time passed: 'timeout', status STATUS_STOPPED.
 * A kernel that cannot be loaded throws BootError (status STATUS_BAD_IMAGE at the CLI).
 *
 * The driver runs the CPU in slices whose budget ends at the next PIT deadline; between
 * slices it updates the PIT. On HLT it jumps virtual time to the next deadline, or sleeps
 * on host time. It yields to the Node event loop every few slices so output streams.
 */
import { readFile } from 'node:fs/promises';
import { VirtualClock, type Clock } from '../../hw/clock.ts';
import { ExitReason } from '../../hw/cpu/exit.ts';
import { BarePc } from './bare_pc.ts';

export { BarePc };
import { HostClock } from './host_clock.ts';
import { BootError } from './multiboot.ts';

export { BootError };

/** Exit status when tsxen stopped the guest (limit, timeout, halted forever). */
export const STATUS_STOPPED = 4;
/** Exit status when the kernel could not be loaded or the options are bad. */
export const STATUS_BAD_IMAGE = 2;

export type BareStopReason = 'exit' | 'shutdown' | 'reset' | 'halted' | 'limit' | 'timeout';

export interface RunBareOptions {
  /** The Multiboot kernel image, or a path to it. */
  kernel: Uint8Array | string;
  cmdline?: string;
  /** RAM in MiB (default 128, like QEMU). */
  memoryMiB?: number;
  /** Stop after this many retired instructions (default: no limit). */
  maxInstructions?: number;
  /** Stop after this much host time (default: no limit). */
  timeoutMs?: number;
  /** 'virtual' (default: deterministic, time = retired instructions) or 'host', or a Clock. */
  clock?: 'virtual' | 'host' | Clock;
  /** Virtual nanoseconds per instruction for the virtual clock (default 1). */
  nsPerInstruction?: number;
  /** Streamed COM1 output (the result also carries all of it). */
  onSerial?: (text: string) => void;
  /** Keep the whole serial transcript in the result (default true). */
  collectSerial?: boolean;
  /** Bytes to type into COM1 (a terminal): polled between slices as the UART has room. */
  serialInput?: SerialInput;
  /** Called synchronously for every COM1 byte as the guest writes it (precise timestamps). */
  onSerialByte?: (byte: number) => void;
  /** Called with the machine after the kernel is loaded, before it runs (benchmarks, tracing). */
  onBoot?: (pc: BarePc) => void;
}

/** A source of COM1 input: returns up to `max` bytes, or null when there are none now. */
export interface SerialInput {
  take(max: number): Uint8Array | null;
}

/** Buffers bytes pushed by the host (e.g. process.stdin) for the guest's UART. */
export class SerialInputQueue implements SerialInput {
  private _chunks: Uint8Array[] = [];

  push(b: Uint8Array): void {
    if (b.length > 0) this._chunks.push(b);
  }

  take(max: number): Uint8Array | null {
    if (max <= 0 || this._chunks.length === 0) return null;
    const c = this._chunks[0]!;
    if (c.length <= max) {
      this._chunks.shift();
      return c;
    }
    this._chunks[0] = c.subarray(max);
    return c.subarray(0, max);
  }
}

export interface RunBareResult {
  reason: BareStopReason;
  /** Process exit status with QEMU's meaning (see the module comment). */
  exitStatus: number;
  /** The value written to port 0xf4 (reason 'exit'), else -1. */
  exitValue: number;
  serial: string;
  instructions: number;
  /** Host milliseconds the run took. */
  elapsedMs: number;
}

const SLICE = 2_000_000;

export async function runBare(opts: RunBareOptions): Promise<RunBareResult> {
  const image = typeof opts.kernel === 'string' ? await readKernel(opts.kernel) : opts.kernel;
  let clock: Clock;
  if (opts.clock === undefined || opts.clock === 'virtual') clock = new VirtualClock(opts.nsPerInstruction ?? 1);
  else if (opts.clock === 'host') clock = new HostClock();
  else clock = opts.clock;
  const collect = opts.collectSerial ?? true;
  const chunks: string[] = [];
  let pendingOut = '';
  const pc = new BarePc({
    memoryMiB: opts.memoryMiB ?? 128,
    clock,
    onSerial: (b) => {
      pendingOut += String.fromCharCode(b);
      opts.onSerialByte?.(b);
    },
  });
  const flushOut = (): void => {
    if (pendingOut.length === 0) return;
    if (collect) chunks.push(pendingOut);
    opts.onSerial?.(pendingOut);
    pendingOut = '';
  };
  pc.boot(image, opts.cmdline ?? '');
  opts.onBoot?.(pc);
  const cpu = pc.cpu;
  const limit = opts.maxInstructions ?? Infinity;
  const t0 = performance.now();
  const deadline = opts.timeoutMs !== undefined ? t0 + opts.timeoutMs : Infinity;
  let reason: BareStopReason | null = null;
  let slices = 0;
  while (reason === null) {
    const now = clock.nowNs();
    pc.pit.update(now);
    if (opts.serialInput) {
      const b = opts.serialInput.take(pc.uart.rxSpace);
      if (b !== null) pc.uart.receive(b);
    }
    const next = pc.pit.nextEventNs(now);
    let budget = Math.min(SLICE, limit - cpu.instructions);
    if (clock instanceof VirtualClock && next !== Infinity) budget = Math.min(budget, clock.instructionsUntil(next));
    if (budget <= 0) {
      reason = 'limit';
      break;
    }
    const r = cpu.run(budget);
    if (pc.exitValue >= 0) reason = 'exit';
    else if (pc.resetRequested) reason = 'reset';
    else if (r === ExitReason.SHUTDOWN) reason = 'shutdown';
    else if (r === ExitReason.HLT) {
      if ((cpu.getEflags() & 0x200) === 0 && !cpu.nmiPending) reason = 'halted';
      else {
        const n = clock.nowNs();
        const wake = pc.pit.nextEventNs(n);
        if (clock instanceof VirtualClock) {
          if (wake === Infinity) reason = 'halted';
          else clock.advanceTo(wake);
        } else {
          const ms = wake === Infinity ? 10 : Math.min(10, Math.max(0, (wake - n) / 1e6));
          flushOut();
          await sleep(ms);
        }
      }
    }
    if (reason === null && cpu.instructions >= limit) reason = 'limit';
    if (reason === null && ++slices % 8 === 0) {
      flushOut();
      if (performance.now() > deadline) reason = 'timeout';
      else await yieldNow();
    }
  }
  flushOut();
  const exitStatus = reason === 'exit' ? ((pc.exitValue << 1) | 1) >>> 0 & 0xff
    : reason === 'shutdown' || reason === 'reset' ? 0 : STATUS_STOPPED;
  return {
    reason,
    exitStatus,
    exitValue: pc.exitValue,
    serial: chunks.join(''),
    instructions: cpu.instructions,
    elapsedMs: performance.now() - t0,
  };
}

async function readKernel(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new BootError(`cannot read kernel ${path}: ${(e as Error).message}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function yieldNow(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

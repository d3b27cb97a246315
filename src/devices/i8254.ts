/**
 * Intel 8254 programmable interval timer (ports 0x40-0x43 on a PC), running on the Clock:
 * three 16-bit down counters at 1.193182 MHz, modes 0-5, LSB/MSB/word access, counter latch,
 * read-back (count and status), BCD counting, gates. Channel 0 drives IRQ 0; channel 2's
 * gate and output are reached through port 0x61 (PcSpeakerPort).
 *
 * The counters are not stepped: every value is computed from the Clock at the moment it is
 * read, from the time the count was loaded. The platform calls update(now) between CPU
 * slices; it raises one IRQ 0 edge if channel 0's output rose since the last update (missed
 * periods coalesce, as lost ticks do on real hardware), and nextEventNs() tells the driver
 * when the next edge is due so a virtual-time run can stop exactly there.
 *
 * Modes (output OUT, N = reload value, 0 means 65536): 0 interrupt on terminal count (low,
 * then high at N and stays); 1 one-shot triggered by a gate edge; 2 rate generator (low for
 * one tick every N); 3 square wave (high for N/2, low for N/2); 4 software strobe (low for
 * one tick at N); 5 hardware strobe (gate-triggered 4).
 */
import type { AccessSize, BusDevice } from '../hw/bus/bus_device.ts';
import type { Clock } from '../hw/clock.ts';
import type { IrqLine } from '../hw/irq.ts';

export const PIT_HZ = 1193182;

class Channel {
  mode = 0;
  rw = 3;
  bcd = false;
  /** Reload value 1..65536. */
  reload = 0x10000;
  /** Clock time (ns) counting (re)started from `reload`, or -1 if not counting. */
  start = -1;
  /** Ticks counted before the gate stopped the count (modes 0 and 4). */
  frozenTicks = 0;
  gate = true;
  /** Write state: low byte written, waiting for the high byte. */
  writeHigh = false;
  pendingLow = 0;
  /** Read state for word access: next read returns the high byte. */
  readHigh = false;
  latched = -1;
  latchedHigh = false;
  status = -1;
  nullCount = true;
  /** One-shot modes armed by a gate edge (1, 5) or by loading (0, 4). */
  armed = false;
}

export interface I8254Snapshot {
  readonly kind: 'i8254';
  readonly version: 1;
  readonly nowNs: number;
  readonly channels: readonly Readonly<Record<string, number | boolean>>[];
  readonly lastIrqTick: number;
}

export class I8254 implements BusDevice {
  readonly ch: Channel[] = [new Channel(), new Channel(), new Channel()];
  /** Channel-0 output edges already reported as IRQs, counted in ticks since start. */
  private _reportedEdge = -1;

  constructor(private readonly _clock: Clock, private readonly _irq0: IrqLine | null) {}

  private _ticks(c: Channel, now: number): number {
    if (c.start < 0) return c.frozenTicks;
    return c.frozenTicks + Math.floor(((now - c.start) * PIT_HZ) / 1e9);
  }

  /** Counter value (0..0xffff) at `now`. */
  count(n: number, now = this._clock.nowNs()): number {
    const c = this.ch[n]!;
    if (c.start < 0 && c.frozenTicks === 0 && !c.armed) return c.reload & 0xffff;
    const t = this._ticks(c, now);
    const N = c.reload;
    switch (c.mode) {
      case 0: case 1: case 4: case 5:
        return (N - t) & 0xffff;
      case 2:
        return N - (t % N) === N ? N & 0xffff : (N - (t % N)) & 0xffff;
      default: {
        // mode 3 counts down by two each tick, twice per period
        const half = Math.ceil(N / 2);
        const p = t % N;
        const inHalf = p < half ? p : p - half;
        return (N - 2 * inHalf) & 0xfffe;
      }
    }
  }

  /** Output pin level of channel n at `now`. */
  out(n: number, now = this._clock.nowNs()): boolean {
    const c = this.ch[n]!;
    const N = c.reload;
    if (c.start < 0 && !c.armed) return c.mode !== 0;
    const t = this._ticks(c, now);
    switch (c.mode) {
      case 0: return t >= N;
      case 1: return !c.armed || t >= N;
      case 2: return t % N !== N - 1;
      case 3: return t % N < Math.ceil(N / 2);
      default: return !(t === N);
    }
  }

  /** Time (ns) of the next rising edge of channel 0's output, or Infinity. */
  nextEventNs(now = this._clock.nowNs()): number {
    const c = this.ch[0]!;
    if (c.start < 0) return Infinity;
    const t = this._ticks(c, now);
    const N = c.reload;
    let edge: number;
    switch (c.mode) {
      case 0: case 4: edge = t < N ? N + (c.mode === 4 ? 1 : 0) : Infinity; break;
      case 2: edge = (Math.floor(t / N) + 1) * N; break;
      case 3: edge = (Math.floor(t / N) + 1) * N; break;
      default: return Infinity;
    }
    if (edge === Infinity) return Infinity;
    return c.start + ((edge - c.frozenTicks) * 1e9) / PIT_HZ;
  }

  /** Raise IRQ 0 if channel 0's output rose since the last call. */
  update(now = this._clock.nowNs()): void {
    const c = this.ch[0]!;
    if (c.start < 0 || this._irq0 === null) return;
    const t = this._ticks(c, now);
    const N = c.reload;
    let edgeIdx: number;
    switch (c.mode) {
      case 0: edgeIdx = t >= N ? 0 : -1; break;
      case 4: edgeIdx = t > N ? 0 : -1; break;
      case 2: case 3: edgeIdx = Math.floor(t / N); break;
      default: edgeIdx = -1;
    }
    if (c.mode === 2 || c.mode === 3) {
      // edges at t = N, 2N, ... (mode 3: start of each high half after the first)
      if (edgeIdx >= 1 && edgeIdx > this._reportedEdge) {
        this._reportedEdge = edgeIdx;
        this._pulse();
      }
    } else if (edgeIdx === 0 && this._reportedEdge < 0) {
      this._reportedEdge = 0;
      this._pulse();
    }
  }

  private _pulse(): void {
    this._irq0!.setLevel(true);
    this._irq0!.setLevel(false);
  }

  /** Gate input (channel 2 through port 0x61; channels 0 and 1 are tied high on a PC). */
  setGate(n: number, high: boolean): void {
    const c = this.ch[n]!;
    if (c.gate === high) return;
    const now = this._clock.nowNs();
    c.gate = high;
    if (!high) {
      if (c.start >= 0 && (c.mode === 0 || c.mode === 4)) {
        c.frozenTicks = this._ticks(c, now);
        c.start = -1;
      } else if (c.mode === 2 || c.mode === 3) {
        c.start = -1;
        c.frozenTicks = 0;
      }
      return;
    }
    // rising gate edge
    if (c.mode === 1 || c.mode === 5 || c.mode === 2 || c.mode === 3) {
      if (c.armed || c.mode === 2 || c.mode === 3) {
        c.start = now;
        c.frozenTicks = 0;
        if (n === 0) this._reportedEdge = 0;
      }
    } else if (c.armed) {
      c.start = now; // resume counting (frozenTicks keeps what was counted)
    }
  }

  private _load(n: number, value: number): void {
    const c = this.ch[n]!;
    if (c.bcd) value = fromBcd(value);
    c.reload = value === 0 ? (c.bcd ? 10000 : 0x10000) : value;
    c.nullCount = false;
    c.frozenTicks = 0;
    c.armed = true;
    if (n === 0) this._reportedEdge = c.mode === 2 || c.mode === 3 ? 0 : -1;
    const now = this._clock.nowNs();
    if (c.mode === 1 || c.mode === 5) {
      c.start = -1; // waits for a gate edge
    } else if (c.gate) {
      c.start = now;
    } else {
      c.start = -1;
    }
  }

  private _control(v: number): void {
    const sel = v >> 6;
    if (sel === 3) {
      // read-back
      const now = this._clock.nowNs();
      for (let n = 0; n < 3; n++) {
        if (((v >> (1 + n)) & 1) === 0) continue;
        const c = this.ch[n]!;
        if ((v & 0x20) === 0 && c.latched < 0) {
          c.latched = this.count(n, now);
          c.latchedHigh = false;
        }
        if ((v & 0x10) === 0 && c.status < 0) {
          c.status = (this.out(n, now) ? 0x80 : 0) | (c.nullCount ? 0x40 : 0) | (c.rw << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
        }
      }
      return;
    }
    const c = this.ch[sel]!;
    const rw = (v >> 4) & 3;
    if (rw === 0) {
      if (c.latched < 0) {
        c.latched = this.count(sel);
        c.latchedHigh = false;
      }
      return;
    }
    c.rw = rw;
    let mode = (v >> 1) & 7;
    if (mode > 5) mode -= 4;
    c.mode = mode;
    c.bcd = (v & 1) !== 0;
    c.writeHigh = false;
    c.readHigh = false;
    c.latched = -1;
    c.status = -1;
    c.nullCount = true;
    c.start = -1;
    c.frozenTicks = 0;
    c.armed = false;
    if (sel === 0) this._reportedEdge = -1;
  }

  read(offset: number, _size: AccessSize): number {
    const n = offset & 3;
    if (n === 3) return 0xff;
    const c = this.ch[n]!;
    if (c.status >= 0) {
      const s = c.status;
      c.status = -1;
      return s;
    }
    let v: number;
    let fromLatch = false;
    if (c.latched >= 0) {
      v = c.latched;
      fromLatch = true;
    } else {
      v = this.count(n);
    }
    if (c.bcd) v = toBcd(v);
    let out: number;
    switch (c.rw) {
      case 1: out = v & 0xff; if (fromLatch) c.latched = -1; break;
      case 2: out = (v >> 8) & 0xff; if (fromLatch) c.latched = -1; break;
      default:
        if (fromLatch) {
          if (!c.latchedHigh) {
            out = v & 0xff;
            c.latchedHigh = true;
          } else {
            out = (v >> 8) & 0xff;
            c.latched = -1;
            c.latchedHigh = false;
          }
        } else {
          out = c.readHigh ? (v >> 8) & 0xff : v & 0xff;
          c.readHigh = !c.readHigh;
        }
    }
    return out;
  }

  write(offset: number, _size: AccessSize, v: number): void {
    v &= 0xff;
    const n = offset & 3;
    if (n === 3) {
      this._control(v);
      return;
    }
    const c = this.ch[n]!;
    switch (c.rw) {
      case 1: this._load(n, v); break;
      case 2: this._load(n, v << 8); break;
      default:
        if (!c.writeHigh) {
          c.pendingLow = v;
          c.writeHigh = true;
          if (c.mode === 0) {
            // writing the first byte stops a mode-0 count
            c.start = -1;
            c.armed = false;
          }
        } else {
          c.writeHigh = false;
          this._load(n, c.pendingLow | (v << 8));
        }
    }
  }

  saveState(): I8254Snapshot {
    const now = this._clock.nowNs();
    return {
      kind: 'i8254', version: 1, nowNs: now, lastIrqTick: this._reportedEdge,
      channels: this.ch.map((c) => ({
        mode: c.mode, rw: c.rw, bcd: c.bcd, reload: c.reload, startAgo: c.start < 0 ? -1 : now - c.start,
        frozenTicks: c.frozenTicks, gate: c.gate, writeHigh: c.writeHigh, pendingLow: c.pendingLow, readHigh: c.readHigh,
        latched: c.latched, latchedHigh: c.latchedHigh, status: c.status, nullCount: c.nullCount, armed: c.armed,
      })),
    };
  }

  loadState(s: I8254Snapshot): void {
    if (s.kind !== 'i8254' || s.version !== 1 || s.channels.length !== 3) throw new Error('i8254 snapshot: bad kind/version');
    const now = this._clock.nowNs();
    this._reportedEdge = s.lastIrqTick;
    s.channels.forEach((d, n) => {
      const c = this.ch[n]!;
      const g = (k: string): number => Number(d[k]);
      c.mode = g('mode'); c.rw = g('rw'); c.bcd = Boolean(d.bcd); c.reload = g('reload');
      c.start = g('startAgo') < 0 ? -1 : now - g('startAgo');
      c.frozenTicks = g('frozenTicks'); c.gate = Boolean(d.gate); c.writeHigh = Boolean(d.writeHigh);
      c.pendingLow = g('pendingLow'); c.readHigh = Boolean(d.readHigh); c.latched = g('latched');
      c.latchedHigh = Boolean(d.latchedHigh); c.status = g('status'); c.nullCount = Boolean(d.nullCount); c.armed = Boolean(d.armed);
    });
  }
}

function fromBcd(v: number): number {
  return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

function toBcd(v: number): number {
  v %= 10000;
  return (Math.floor(v / 1000) << 12) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}

/**
 * Port 0x61 (system control port B): bit 0 = PIT channel 2 gate, bit 1 = speaker data
 * (stored), bit 4 = refresh toggle (flips every 15 us), bit 5 = PIT channel 2 output.
 */
export class PcSpeakerPort implements BusDevice {
  private _v = 0;
  constructor(private readonly _pit: I8254, private readonly _clock: Clock) {
    _pit.setGate(2, false); // bit 0 of port B is 0 at power-on
  }
  read(): number {
    const now = this._clock.nowNs();
    const refresh = Math.floor(now / 15000) & 1;
    return (this._v & 0x0f) | (refresh << 4) | (this._pit.out(2, now) ? 0x20 : 0);
  }
  write(_o: number, _s: AccessSize, v: number): void {
    this._v = v & 0x0f;
    this._pit.setGate(2, (v & 1) !== 0);
  }
}

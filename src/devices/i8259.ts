/**
 * The PC's pair of Intel 8259A programmable interrupt controllers: master at 0x20/0x21,
 * slave at 0xa0/0xa1 cascaded on master IRQ 2, plus the edge/level control registers
 * (ELCR) at 0x4d0/0x4d1. The pair is the CPU's InterruptController (INTR + INTA).
 *
 * Per chip: IRR, ISR, IMR; ICW1-4 initialization (vector base, single/cascade, auto-EOI,
 * special fully nested), OCW2 EOI/rotation/priority commands, OCW3 read IRR/ISR, poll and
 * special mask mode; spurious IRQ 7 on INTA with nothing pending. Edge-triggered inputs
 * latch rising edges into IRR; level-triggered ones (ICW1.LTIM or ELCR) track the line.
 *
 * Invariants: `onChange` runs whenever INTR may have risen (wire it to Cpu.checkInterrupts);
 * the chip never throws on guest writes.
 */
import type { AccessSize, BusDevice } from '../hw/bus/bus_device.ts';
import type { InterruptController } from '../hw/irq.ts';

export interface I8259ChipSnapshot {
  readonly irr: number; readonly isr: number; readonly imr: number; readonly lines: number;
  readonly base: number; readonly step: number; readonly icw4: boolean; readonly single: boolean;
  readonly aeoi: boolean; readonly rotateAeoi: boolean; readonly sfnm: boolean; readonly ltim: boolean;
  readonly readIsr: boolean; readonly poll: boolean; readonly smm: boolean; readonly lowest: number; readonly elcr: number;
}

/** One 8259A. */
export class I8259Chip implements BusDevice {
  irr = 0;
  isr = 0;
  imr = 0xff;
  /** Current input line levels. */
  lines = 0;
  base = 0;
  /** ICW sequence: 0 = operational, 2..4 = expecting ICW2..ICW4. */
  step = 0;
  icw4 = false;
  single = false;
  aeoi = false;
  rotateAeoi = false;
  sfnm = false;
  ltim = false;
  readIsr = false;
  poll = false;
  smm = false;
  /** The IRQ with the lowest priority (priority rotation); 7 at reset. */
  lowest = 7;
  elcr = 0;

  constructor(private readonly _changed: () => void, readonly elcrMask: number) {}

  private _level(n: number): boolean {
    return this.ltim || ((this.elcr >>> n) & 1) !== 0;
  }

  setIrq(n: number, high: boolean): void {
    const bit = 1 << n;
    const was = (this.lines & bit) !== 0;
    if (high) this.lines |= bit;
    else this.lines &= ~bit;
    if (this._level(n)) {
      if (high) this.irr |= bit;
      else this.irr &= ~bit;
    } else if (high && !was) {
      this.irr |= bit;
    }
    this._changed();
  }

  /** IRQ numbers in priority order, highest first. */
  private _prio(k: number): number {
    return (this.lowest + 1 + k) & 7;
  }

  /** Highest-priority bit set in `mask`, or -1. */
  private _highest(mask: number): number {
    for (let k = 0; k < 8; k++) {
      const n = this._prio(k);
      if ((mask >>> n) & 1) return n;
    }
    return -1;
  }

  /** The IRQ this chip would present now, or -1. `cascadeIrq` counts as in service normally. */
  pending(): number {
    const req = this.irr & ~this.imr;
    const r = this._highest(req);
    if (r < 0) return -1;
    let svc = this.isr;
    if (this.smm) svc &= ~this.imr;
    // special fully nested: the cascade input may interrupt its own in-service level
    if (this.sfnm && !this.single) svc &= ~(1 << 2);
    const s = this._highest(svc);
    if (s < 0) return r;
    // r must have strictly higher priority than s
    for (let k = 0; k < 8; k++) {
      const n = this._prio(k);
      if (n === s) return -1;
      if (n === r) return r;
    }
    return -1;
  }

  /** INTA: returns the IRQ moved in service (7 if spurious). */
  ack(): number {
    const n = this.pending();
    if (n < 0) return 7;
    const bit = 1 << n;
    if (!this._level(n)) this.irr &= ~bit;
    if (this.aeoi) {
      if (this.rotateAeoi) this.lowest = n;
    } else {
      this.isr |= bit;
    }
    this._changed();
    return n;
  }

  private _eoi(n: number, rotate: boolean): void {
    if (n < 0) return;
    this.isr &= ~(1 << n);
    if (rotate) this.lowest = n;
    this._changed();
  }

  read(offset: number, _size: AccessSize): number {
    if ((offset & 1) === 1) return this.imr;
    if (this.poll) {
      this.poll = false;
      const n = this.pending();
      if (n < 0) return 0;
      this.ack();
      return 0x80 | n;
    }
    return this.readIsr ? this.isr : this.irr;
  }

  write(offset: number, _size: AccessSize, v: number): void {
    v &= 0xff;
    if ((offset & 1) === 0) {
      if ((v & 0x10) !== 0) {
        // ICW1
        this.icw4 = (v & 1) !== 0;
        this.single = (v & 2) !== 0;
        this.ltim = (v & 8) !== 0;
        this.imr = 0;
        this.isr = 0;
        this.irr &= this.ltim ? this.lines : 0;
        this.lowest = 7;
        this.readIsr = false;
        this.smm = false;
        this.aeoi = false;
        this.sfnm = false;
        this.step = 2;
        this._changed();
        return;
      }
      if ((v & 0x08) !== 0) {
        // OCW3
        if ((v & 2) !== 0) this.readIsr = (v & 1) !== 0;
        if ((v & 4) !== 0) this.poll = true;
        if ((v & 0x40) !== 0) this.smm = (v & 0x20) !== 0;
        this._changed();
        return;
      }
      // OCW2
      const cmd = v >> 5;
      switch (cmd) {
        case 1: this._eoi(this._highest(this.isr), false); break; // non-specific EOI
        case 3: this._eoi(v & 7, false); break; // specific EOI
        case 5: this._eoi(this._highest(this.isr), true); break; // rotate on non-specific EOI
        case 4: this.rotateAeoi = true; break;
        case 0: this.rotateAeoi = false; break;
        case 6: this.lowest = v & 7; this._changed(); break; // set priority
        case 7: this._eoi(v & 7, true); break; // rotate on specific EOI
        default: break;
      }
      return;
    }
    switch (this.step) {
      case 2:
        this.base = v & 0xf8;
        this.step = this.single ? (this.icw4 ? 4 : 0) : 3;
        return;
      case 3:
        this.step = this.icw4 ? 4 : 0;
        return;
      case 4:
        this.aeoi = (v & 2) !== 0;
        this.sfnm = (v & 0x10) !== 0;
        this.step = 0;
        return;
      default:
        this.imr = v;
        this._changed();
    }
  }

  saveState(): I8259ChipSnapshot {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, lines: this.lines, base: this.base, step: this.step, icw4: this.icw4,
      single: this.single, aeoi: this.aeoi, rotateAeoi: this.rotateAeoi, sfnm: this.sfnm, ltim: this.ltim,
      readIsr: this.readIsr, poll: this.poll, smm: this.smm, lowest: this.lowest, elcr: this.elcr,
    };
  }

  loadState(s: I8259ChipSnapshot): void {
    Object.assign(this, s);
  }
}

/** ELCR byte (0x4d0 master, 0x4d1 slave). */
class Elcr implements BusDevice {
  constructor(private readonly _chips: readonly I8259Chip[]) {}
  read(offset: number): number {
    return this._chips[offset & 1]!.elcr;
  }
  write(offset: number, _s: AccessSize, v: number): void {
    const c = this._chips[offset & 1]!;
    c.elcr = v & c.elcrMask;
  }
}

export interface PicPairSnapshot {
  readonly kind: 'i8259-pair';
  readonly version: 1;
  readonly master: I8259ChipSnapshot;
  readonly slave: I8259ChipSnapshot;
}

/** Master + slave, as the CPU's interrupt controller. IRQs 0-15; slave on master IRQ 2. */
export class PicPair implements InterruptController {
  readonly master: I8259Chip;
  readonly slave: I8259Chip;
  readonly elcr: BusDevice;
  /** Called when INTR may have risen (wire to Cpu.checkInterrupts). */
  onChange: () => void = () => {};

  constructor() {
    this.master = new I8259Chip(() => this.onChange(), 0xf8);
    this.slave = new I8259Chip(() => this._cascade(), 0xde);
    this.elcr = new Elcr([this.master, this.slave]);
  }

  private _cascade(): void {
    this.master.setIrq(2, this.slave.pending() >= 0);
  }

  /** Drive IRQ line `irq` (0-15). */
  setIrq(irq: number, high: boolean): void {
    if (irq < 8) this.master.setIrq(irq, high);
    else this.slave.setIrq(irq - 8, high);
  }

  hasInterrupt(): boolean {
    return this.master.pending() >= 0;
  }

  acknowledge(): number {
    const n = this.master.ack();
    if (n === 2) {
      const s = this.slave.ack();
      this._cascade();
      return (this.slave.base + s) & 0xff;
    }
    return (this.master.base + n) & 0xff;
  }

  saveState(): PicPairSnapshot {
    return { kind: 'i8259-pair', version: 1, master: this.master.saveState(), slave: this.slave.saveState() };
  }

  loadState(s: PicPairSnapshot): void {
    if (s.kind !== 'i8259-pair' || s.version !== 1) throw new Error('i8259 snapshot: bad kind/version');
    this.master.loadState(s.master);
    this.slave.loadState(s.slave);
    this.onChange();
  }
}

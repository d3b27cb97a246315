/**
 * NS16550A UART (8 registers, mapped at COM1 = 0x3f8 on a PC). Enough of the chip for
 * Linux's 8250 driver to detect a 16550A and run it with interrupts: divisor latch, IER,
 * IIR with FIFO bits, FCR, LCR, MCR with loopback and OUT2 interrupt gating, LSR, MSR and
 * the scratch register, a 16-byte receive FIFO.
 *
 * Transmission is instantaneous: a THR write hands the byte to `onTransmit` and THR is empty
 * again (LSR.THRE and TEMT always read 1), so a polling guest never waits. In loopback mode
 * transmitted bytes go to the receive FIFO instead, and MSR reflects MCR as the chip wires it.
 *
 * Interrupt identification (highest first): line status (6), received data (4), THR empty
 * (2), modem status (0); none = 1. The THRE interrupt is raised when IER.ETBEI is set (or
 * set again) with THR empty, and when a byte is written; it is cleared by reading IIR while
 * it is the reported source or by writing THR. The IRQ line is driven only while MCR.OUT2
 * is 1 (the PC's interrupt gate), level-style; an edge-triggered PIC sees the rising edges.
 */
import type { AccessSize, BusDevice } from '../hw/bus/bus_device.ts';
import type { IrqLine } from '../hw/irq.ts';

const RX_FIFO = 16;

export interface Uart16550Snapshot {
  readonly kind: 'uart16550';
  readonly version: 1;
  readonly regs: readonly number[];
  readonly rx: readonly number[];
  readonly threPending: boolean;
}

export class Uart16550 implements BusDevice {
  private _ier = 0;
  private _lcr = 0;
  private _mcr = 0;
  private _lsrErr = 0;
  private _msrDelta = 0;
  private _scr = 0;
  private _dll = 1;
  private _dlm = 0;
  private _fcr = 0;
  private _threPending = false;
  private readonly _rx: number[] = [];
  private _irqLevel = false;

  /**
   * @param onTransmit receives every byte the guest sends (not in loopback mode)
   * @param irq the interrupt line (IRQ4 for COM1), or null for a polled-only port
   */
  constructor(
    private readonly _onTransmit: (byte: number) => void,
    private readonly _irq: IrqLine | null = null,
  ) {}

  /** Bytes from the outside world (a terminal); dropped when the FIFO is full. */
  receive(data: Uint8Array | readonly number[]): void {
    for (const b of data) if (this._rx.length < RX_FIFO) this._rx.push(b & 0xff);
    this._update();
  }

  /** Room left in the receive FIFO (for a host-side producer that wants to throttle). */
  get rxSpace(): number {
    return RX_FIFO - this._rx.length;
  }

  private get _dlab(): boolean {
    return (this._lcr & 0x80) !== 0;
  }

  private _iir(): number {
    const fifo = (this._fcr & 1) !== 0 ? 0xc0 : 0;
    if ((this._ier & 4) !== 0 && this._lsrErr !== 0) return fifo | 0x06;
    if ((this._ier & 1) !== 0 && this._rx.length > 0) return fifo | 0x04;
    if ((this._ier & 2) !== 0 && this._threPending) return fifo | 0x02;
    if ((this._ier & 8) !== 0 && this._msrDelta !== 0) return fifo | 0x00;
    return fifo | 0x01;
  }

  private _update(): void {
    const level = (this._iir() & 1) === 0 && (this._mcr & 0x08) !== 0;
    if (level !== this._irqLevel) {
      this._irqLevel = level;
      this._irq?.setLevel(level);
    }
  }

  read(offset: number, _size: AccessSize): number {
    switch (offset & 7) {
      case 0: {
        if (this._dlab) return this._dll;
        const v = this._rx.length > 0 ? this._rx.shift()! : 0;
        this._update();
        return v;
      }
      case 1:
        return this._dlab ? this._dlm : this._ier;
      case 2: {
        const v = this._iir();
        if ((v & 0x0f) === 0x02) this._threPending = false;
        this._update();
        return v;
      }
      case 3:
        return this._lcr;
      case 4:
        return this._mcr;
      case 5: {
        const v = 0x60 | (this._rx.length > 0 ? 1 : 0) | this._lsrErr;
        this._lsrErr = 0;
        this._update();
        return v;
      }
      case 6: {
        let v: number;
        if ((this._mcr & 0x10) !== 0) {
          // loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD
          const m = this._mcr;
          v = ((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) | ((m & 8) << 4);
        } else {
          v = 0xb0; // DCD, DSR, CTS asserted: a terminal is attached
        }
        v |= this._msrDelta;
        this._msrDelta = 0;
        this._update();
        return v;
      }
      default:
        return this._scr;
    }
  }

  write(offset: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    switch (offset & 7) {
      case 0:
        if (this._dlab) {
          this._dll = value;
          return;
        }
        if ((this._mcr & 0x10) !== 0) {
          if (this._rx.length < RX_FIFO) this._rx.push(value);
          else this._lsrErr |= 0x02; // overrun
        } else {
          this._onTransmit(value);
        }
        this._threPending = true;
        this._update();
        return;
      case 1:
        if (this._dlab) {
          this._dlm = value;
          return;
        }
        // enabling ETBEI with THR empty raises THRE at once (what the 8250 driver probes)
        if ((value & 2) !== 0 && (this._ier & 2) === 0) this._threPending = true;
        this._ier = value & 0x0f;
        this._update();
        return;
      case 2:
        this._fcr = value & 0xc9;
        if ((value & 2) !== 0) this._rx.length = 0;
        this._update();
        return;
      case 3:
        this._lcr = value;
        return;
      case 4:
        this._mcr = value & 0x1f;
        this._update();
        return;
      case 5:
      case 6:
        return; // LSR and MSR are read-only (factory test writes ignored)
      default:
        this._scr = value;
    }
  }

  saveState(): Uart16550Snapshot {
    return {
      kind: 'uart16550', version: 1,
      regs: [this._ier, this._lcr, this._mcr, this._lsrErr, this._msrDelta, this._scr, this._dll, this._dlm, this._fcr],
      rx: [...this._rx], threPending: this._threPending,
    };
  }

  loadState(s: Uart16550Snapshot): void {
    if (s.kind !== 'uart16550' || s.version !== 1 || s.regs.length !== 9) throw new Error('uart16550 snapshot: bad kind/version');
    [this._ier, this._lcr, this._mcr, this._lsrErr, this._msrDelta, this._scr, this._dll, this._dlm, this._fcr] = s.regs as number[];
    this._rx.length = 0;
    this._rx.push(...s.rx.slice(0, RX_FIFO));
    this._threPending = s.threPending;
    this._update();
  }
}

/**
 * Interrupt plumbing between devices, interrupt controllers and the CPU.
 *
 *  - A device drives an IrqLine (level: high/low; an edge-triggered controller latches the
 *    rising edge). It never knows which controller or pin it is wired to.
 *  - A CPU sees one InterruptController: the INTR pin (`hasInterrupt`) and the
 *    interrupt-acknowledge cycle (`acknowledge`, which returns the vector and moves the
 *    request in service, as the i8259's INTA does).
 *  - A controller calls its `onChange` callback whenever INTR may have become asserted, so
 *    the CPU re-examines it at the next instruction boundary instead of polling every
 *    block (Cpu.checkInterrupts is the callback to wire).
 */
export interface IrqLine {
  setLevel(high: boolean): void;
}

export interface InterruptController {
  /** True while an unmasked request is pending (INTR asserted). */
  hasInterrupt(): boolean;
  /** INTA: the vector of the highest-priority request, now in service. */
  acknowledge(): number;
}

/** An IrqLine that forwards to pin `pin` of a controller with a setIrq(pin, level) method. */
export class ControllerPin implements IrqLine {
  constructor(
    private readonly _ctl: { setIrq(pin: number, high: boolean): void },
    readonly pin: number,
  ) {}

  setLevel(high: boolean): void {
    this._ctl.setIrq(this.pin, high);
  }
}

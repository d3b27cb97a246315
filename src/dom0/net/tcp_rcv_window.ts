/**
 * TCP's receive window (RFC 9293 3.8.6, RFC 7323 2): how much the connection will take and
 * what it advertises.
 *
 * Invariants: free = buf - held, where held is delivered data the owner has not released;
 * the advertised right edge (rcv.nxt + window << shift) never moves left (RFC 9293
 * 3.8.6.2.2: a receiver should not shrink the window); the shift offered in our SYN is the
 * least that lets 65535 << shift cover the buffer, and is used only if the peer also sent the
 * option.
 */
import { add, diff } from './tcp_types.ts';

export class ReceiveWindow {
  held = 0;
  /** The shift applied to our window field (0 unless both SYNs carried window scale). */
  shift = 0;
  readonly offerShift: number;
  private _edge = 0;

  constructor(readonly buf: number) {
    let s = 0;
    while (s < 14 && (65535 << s) < buf) s++;
    this.offerShift = s;
  }

  get free(): number {
    return Math.max(0, this.buf - this.held);
  }

  /** The window field for a segment acknowledging rcvNxt; records the edge it promises. */
  field(rcvNxt: number): number {
    let w = this.free;
    const promised = diff(this._edge, rcvNxt);
    if (w < promised) w = promised;
    let f = w >>> this.shift;
    if (f > 65535) f = 65535;
    this._edge = add(rcvNxt, f << this.shift);
    return f;
  }

  /** Synchronized: the edge starts at rcv.nxt (our SYN's window was unscaled). */
  resetEdge(rcvNxt: number): void {
    this._edge = rcvNxt;
  }
}

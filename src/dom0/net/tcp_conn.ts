/**
 * One TCP connection endpoint (RFC 9293), driven by segments and the Clock. The gateway
 * terminates every guest TCP connection in one of these (passive side) and opens one for each
 * port-forwarded host connection (active side); tests also use it as a guest-side peer.
 *
 * Implemented: handshakes (incl. simultaneous open), mod-2^32 sequence space, window scaling
 * and MSS, out-of-order queue (tcp_ooo.ts), receive window (tcp_rcv_window.ts), RFC 6298 RTO
 * and Reno/NewReno (tcp_cc.ts), zero-window probes, delayed ACK, all closing states,
 * TIME-WAIT, RST, RFC 5961 challenge ACKs. Never offered, so never negotiated: SACK,
 * timestamps; URG is ignored and its data delivered in line (RFC 6093).
 *
 * Invariants:
 * - snd_una <= snd_nxt <= snd_una + (sent data + SYN + FIN); the send queue holds exactly
 *   the bytes from snd_una (or iss+1 before the SYN is acked) that are not yet acknowledged
 *   or not yet sent. A byte leaves the queue only when acknowledged.
 * - The receive window right edge never moves left: window = rcvCap - held, where held is
 *   delivered data the owner has not released yet; out-of-order data sits inside the window.
 * - Every owner callback (events) is made after the connection's state is consistent; an
 *   owner may call send()/close()/abort() from inside one.
 * - Guest input never throws: unacceptable segments get the RFC's answer (ACK, RST, drop).
 * - Re-entrancy: an emit may make the peer answer synchronously (the bridge delivers a reply
 *   to a port while that port is still inside its send()), so every state change a segment
 *   implies (snd.nxt, timers, FIN state, closing) is made before the segment is emitted,
 *   and code after an emit re-checks whether the connection closed meanwhile.
 */
import { ByteQueue } from './byte_queue.ts';
import type { TcpSegment } from './tcp_wire.ts';
import { TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN } from './tcp_wire.ts';
import type { Timed, TimerQueue } from './timers.ts';
import { OutOfOrderQueue } from './tcp_ooo.ts';
import { RenoCongestion, RtoEstimator } from './tcp_cc.ts';
import { ReceiveWindow } from './tcp_rcv_window.ts';
import {
  add, DEFAULT_TCP_CONFIG, diff, le, lt, segmentAcceptable, TCP_STATE_NAMES, TcpState,
  type TcpCloseReason, type TcpConfig, type TcpEvents, type TcpOutput,
} from './tcp_types.ts';

export { TcpState, TCP_STATE_NAMES, DEFAULT_TCP_CONFIG } from './tcp_types.ts';
export type { TcpCloseReason, TcpConfig, TcpEvents, TcpOutput } from './tcp_types.ts';

export class TcpConn implements Timed {
  state = TcpState.Closed;
  timerAt = Infinity;

  // Send sequence space.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** The highest sequence number sent so far (snd_nxt rewinds on a retransmission timeout). */
  private _sndMax = 0;
  sndWnd = 0;
  private _sndWl1 = 0;
  private _sndWl2 = 0;
  private _sndShift = 0;
  private _peerMss = 536;
  private readonly _sndQ: ByteQueue;
  private _finQueued = false;
  private _finSent = false;
  private _finSeq = 0;
  // Congestion control and the retransmission timer (tcp_cc.ts).
  private readonly _cc = new RenoCongestion();
  private readonly _rtt: RtoEstimator;
  private _rtoAt = Infinity;
  private _retries = 0;
  private _rttSeq = 0;
  private _rttStartNs = -1;
  private _persistAt = Infinity;
  private _persistBackoff = 0;
  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  private readonly _rw: ReceiveWindow;
  private readonly _ooo = new OutOfOrderQueue();
  private _oooFin = -1;
  private _unackedSegs = 0;
  private _delAckAt = Infinity;
  private _timeWaitAt = Infinity;
  private _sendSpaceBlocked = false;
  private _closedReason: TcpCloseReason | null = null;
  /** Counters for tests and stats. */
  retransmits = 0;
  /** Of which: entries into fast retransmit (3 duplicate ACKs) and retransmission timeouts. */
  fastRetransmits = 0;
  timeouts = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    private readonly _out: TcpOutput,
    private readonly _ev: TcpEvents,
    private readonly _timers: TimerQueue,
    private readonly _now: () => number,
    readonly cfg: TcpConfig = DEFAULT_TCP_CONFIG,
  ) {
    this._sndQ = new ByteQueue(Math.min(cfg.sndBuf, 65536));
    this._rtt = new RtoEstimator(cfg.minRtoNs, cfg.maxRtoNs, cfg.initialRtoNs);
    this._rw = new ReceiveWindow(cfg.rcvBuf);
  }

  get stateName(): string { return TCP_STATE_NAMES[this.state]; }
  get closedReason(): TcpCloseReason | null { return this._closedReason; }
  /** Bytes queued for sending (unsent + unacknowledged). */
  get sendQueued(): number { return this._sndQ.length; }
  /** Room left in the send queue before the high-water mark. */
  sendSpace(): number { return this.cfg.sndBuf - this._sndQ.length; }
  get effectiveMss(): number { return Math.min(this._peerMss, this.cfg.mss); }
  get cwnd(): number { return this._cc.cwnd; }
  get ssthresh(): number { return this._cc.ssthresh; }
  /** The current retransmission timeout (ns). */
  get rto(): number { return this._rtt.rto; }

  // ---- opening ----------------------------------------------------------------------------

  /** Active open: send SYN. */
  connect(iss: number): void {
    this._assertState(TcpState.Closed, 'connect');
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this._sndMax = add(this.iss, 1);
    this.state = TcpState.SynSent;
    this._sendSyn(false);
  }

  /**
   * Passive open from a received SYN, held until the owner knows whether the host end
   * exists: accept() then sends SYN-ACK, refuse() sends RST.
   */
  receiveSyn(seg: TcpSegment): void {
    this._assertState(TcpState.Closed, 'receiveSyn');
    this._takeSynOptions(seg);
    this.irs = seg.seq;
    this.rcvNxt = add(seg.seq, 1);
    this.sndWnd = seg.window; // never scaled in a SYN
    this.state = TcpState.SynPending;
  }

  accept(iss: number): void {
    this._assertState(TcpState.SynPending, 'accept');
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this._sndMax = add(this.iss, 1);
    this.state = TcpState.SynReceived;
    this._sendSyn(true);
  }

  refuse(): void {
    this._assertState(TcpState.SynPending, 'refuse');
    const ack = this.rcvNxt;
    this._finish('refused');
    this._out.emit(this, TH_RST | TH_ACK, 0, ack, 0, 0, -1, 0, 0);
  }

  // ---- owner operations -------------------------------------------------------------------

  /** Queue bytes for the peer (copied). Legal until close(). */
  send(data: Uint8Array): void {
    if (this._finQueued || this.state === TcpState.Closed || this.state === TcpState.TimeWait) return;
    this._sndQ.push(data, 0, data.length);
    if (this.sendSpace() <= 0) this._sendSpaceBlocked = true;
    this._output();
  }

  /** The owner disposed of n delivered bytes: reopen that much window. */
  release(n: number): void {
    if (n <= 0 || this.state === TcpState.Closed) return;
    const before = this._rw.free;
    this._rw.held = Math.max(0, this._rw.held - n);
    const after = this._rw.free;
    // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): announce only a worthwhile opening.
    if (before < this.effectiveMss && after >= Math.min(this.cfg.rcvBuf / 2, this.effectiveMss) && this._synchronized()) this._sendAck();
  }

  /** No more data from us: FIN after the queued bytes. */
  close(): void {
    if (this._finQueued) return;
    switch (this.state) {
      case TcpState.Closed: case TcpState.TimeWait: return;
      case TcpState.SynPending: this.refuse(); return;
      case TcpState.SynSent: this._finish('closed'); return;
      default:
        this._finQueued = true;
        this._output();
    }
  }

  /** Reset the connection now. */
  abort(): void {
    if (this.state === TcpState.Closed) return;
    if (this.state === TcpState.SynPending) { this.refuse(); return; }
    this._reset('aborted');
  }

  /** Payload copy for TcpOutput: bytes of sequence [seq, seq+len) from the send queue. */
  copyPayload(seq: number, dst: Uint8Array, dstOff: number, len: number): void {
    this._sndQ.copyOut(diff(seq, this._dataStart()), dst, dstOff, len);
  }

  // ---- segment arrival (RFC 9293 3.10.7) --------------------------------------------------

  /** A segment for this connection; `payload` is the frame holding it (read-only). */
  input(seg: TcpSegment, payload: Uint8Array): void {
    const f = seg.flags;
    switch (this.state) {
      case TcpState.Closed:
        return;
      case TcpState.SynPending:
        // Duplicate SYNs while the host connect runs are absorbed; anything else is early.
        if (f & TH_RST) this._finish('reset');
        return;
      case TcpState.SynSent:
        this._inputSynSent(seg);
        return;
      default:
    }
    if (this.state === TcpState.SynReceived && (f & TH_SYN) && !(f & TH_ACK) && seg.seq === this.irs) {
      this._sendSyn(true); // our SYN-ACK was lost
      return;
    }
    const segLen = seg.payloadLen + (f & TH_SYN ? 1 : 0) + (f & TH_FIN ? 1 : 0);
    const wnd = this._rw.free;
    if (!segmentAcceptable(this.rcvNxt, seg.seq, segLen, wnd)) {
      if (!(f & TH_RST)) this._sendAck();
      return;
    }
    if (f & TH_RST) {
      if (seg.seq === this.rcvNxt) this._finish(this.state === TcpState.SynReceived ? 'refused' : 'reset');
      else this._sendAck(); // RFC 5961 3.2 challenge ACK
      return;
    }
    if (f & TH_SYN) { this._sendAck(); return; } // RFC 5961 4.2
    if (!(f & TH_ACK)) return;
    if (!this._processAck(seg)) return;
    if (this._isClosed()) return;
    this._processData(seg, payload, wnd);
    if (!this._isClosed()) this._output();
  }

  private _inputSynSent(seg: TcpSegment): void {
    const f = seg.flags;
    if (f & TH_ACK) {
      if (seg.ack !== this.sndNxt) {
        if (!(f & TH_RST)) this._out.emit(this, TH_RST, seg.ack, 0, 0, 0, -1, 0, 0);
        return;
      }
    }
    if (f & TH_RST) {
      if (f & TH_ACK) this._finish('refused');
      return;
    }
    if (!(f & TH_SYN)) return;
    this._takeSynOptions(seg);
    this.irs = seg.seq;
    this.rcvNxt = add(seg.seq, 1);
    if (f & TH_ACK) {
      this.sndUna = seg.ack;
      this.sndWnd = seg.window;
      this._sndWl1 = seg.seq;
      this._sndWl2 = seg.ack;
      this._ackedSyn();
      this.state = TcpState.Established;
      this._sendAck();
      this._ev.onEstablished(this);
      this._output();
    } else {
      this.state = TcpState.SynReceived; // simultaneous open
      this._sendSyn(true);
    }
  }

  /** ACK field processing; false when the segment must be dropped here. */
  private _processAck(seg: TcpSegment): boolean {
    const ack = seg.ack;
    if (this.state === TcpState.SynReceived) {
      if (!(lt(this.sndUna, ack) && le(ack, this.sndNxt))) {
        this._out.emit(this, TH_RST, ack, 0, 0, 0, -1, 0, 0);
        return false;
      }
      this.sndUna = add(this.sndUna, 1);
      this._ackedSyn();
      this.state = TcpState.Established;
      this.sndWnd = seg.window << this._sndShift;
      this._sndWl1 = seg.seq;
      this._sndWl2 = ack;
      this._ev.onEstablished(this);
      if (this._isClosed()) return false;
    }
    if (lt(this._sndMax, ack)) { this._sendAck(); return false; } // acks something never sent
    const now = this._now();
    if (lt(this.sndUna, ack)) {
      this._newAck(ack, now);
    } else if (ack === this.sndUna && seg.payloadLen === 0 && !(seg.flags & (TH_FIN | TH_SYN))
      && (seg.window << this._sndShift) === this.sndWnd && this._sndMax !== this.sndUna) {
      this._dupAck();
    }
    if (lt(this._sndWl1, seg.seq) || (this._sndWl1 === seg.seq && le(this._sndWl2, ack))) {
      const wasZero = this.sndWnd === 0;
      this.sndWnd = seg.window << this._sndShift;
      this._sndWl1 = seg.seq;
      this._sndWl2 = ack;
      if (this.sndWnd > 0 && wasZero) { this._persistAt = Infinity; this._persistBackoff = 0; }
    }
    const finAcked = this._finSent && lt(this._finSeq, this.sndUna);
    switch (this.state) {
      case TcpState.FinWait1: if (finAcked) this.state = TcpState.FinWait2; break;
      case TcpState.Closing: if (finAcked) this._enterTimeWait(); break;
      case TcpState.LastAck: if (finAcked) { this._finish('closed'); return false; } break;
      case TcpState.TimeWait: this._enterTimeWait(); this._sendAck(); break; // a retransmitted FIN
      default:
    }
    return true;
  }

  private _newAck(ack: number, now: number): void {
    const acked = diff(ack, this.sndUna);
    // Bytes of data acknowledged (the FIN's sequence number carries none).
    let dataAcked = acked;
    if (this._finSent && lt(this._finSeq, ack)) dataAcked--;
    if (dataAcked > this._sndQ.length) dataAcked = this._sndQ.length;
    this._sndQ.consume(dataAcked);
    this.sndUna = ack;
    if (lt(this.sndNxt, ack)) this.sndNxt = ack; // acked past a go-back-N rewind
    this._retries = 0;
    if (this._rttStartNs >= 0 && lt(this._rttSeq, ack)) { this._rtt.sample(now - this._rttStartNs); this._rttStartNs = -1; }
    const partialAck = this._cc.onAck(ack, acked, this.effectiveMss);
    this._rtoAt = this.sndUna === this._sndMax ? Infinity : now + this.rto;
    this._schedule();
    if (partialAck) this._retransmitOne();
    if (this._sendSpaceBlocked && this._sndQ.length <= this.cfg.sndBuf / 2 && !this._isClosed()) {
      this._sendSpaceBlocked = false;
      this._ev.onSendSpace(this);
    }
  }

  private _dupAck(): void {
    if (this._cc.onDupAck(diff(this._sndMax, this.sndUna), this._sndMax, this.effectiveMss)) {
      this.fastRetransmits++;
      this._retransmitOne();
    }
  }

  private _processData(seg: TcpSegment, frame: Uint8Array, wnd: number): void {
    const st = this.state;
    const canReceive = st === TcpState.Established || st === TcpState.FinWait1 || st === TcpState.FinWait2;
    let seq = seg.seq;
    let off = seg.payloadOff;
    let len = seg.payloadLen;
    const fin = (seg.flags & TH_FIN) !== 0;
    if (!canReceive) {
      if (len > 0 || fin) this._sendAck(); // data after the peer's FIN: ignore, re-ack
      return;
    }
    // Trim to the window: what precedes rcvNxt is old; what passes the right edge is dropped.
    const head = diff(this.rcvNxt, seq);
    if (head > 0) { seq = this.rcvNxt; off += head; len -= head; }
    let finInWindow = fin;
    if (len > wnd) { len = wnd; finInWindow = false; }
    if (len < 0) len = 0;
    if (seq === this.rcvNxt) {
      if (len > 0) this._deliver(frame.subarray(off, off + len));
      if (this.state === TcpState.Closed) return;
      this._pullOoo();
      if (finInWindow && add(seg.seq, seg.payloadLen) === this.rcvNxt) this._peerFin();
      else if (this._oooFin >= 0 && this._oooFin === this.rcvNxt) this._peerFin();
      if (this._isClosed()) return;
      if (len === 0) return; // a pure ACK (a FIN was acknowledged in _peerFin)
      const filledGap = this._oooFilled;
      this._oooFilled = false;
      // ACK every second full segment; a short or pushed segment ends a burst (the sender is
      // likely waiting on it), so it is acknowledged at once instead of after delAckNs.
      if (++this._unackedSegs >= 2 || filledGap || len < this.effectiveMss || (seg.flags & TH_PSH) !== 0) this._sendAck();
      else if (this._delAckAt === Infinity) { this._delAckAt = this._now() + this.cfg.delAckNs; this._schedule(); }
      return;
    }
    // Out of order: keep a copy inside the window, answer with a duplicate ACK at once.
    if (len > 0) this._ooo.store(seq, frame.subarray(off, off + len));
    if (finInWindow) this._oooFin = add(seq, len);
    this._sendAck();
  }

  private _deliver(data: Uint8Array): void {
    this.rcvNxt = add(this.rcvNxt, data.length);
    this._rw.held += data.length;
    this.bytesIn += data.length;
    this._ev.onData(this, data);
  }

  private _oooFilled = false;

  private _pullOoo(): void {
    const q = this._ooo;
    if (q.length) this._oooFilled = true;
    for (let d = q.takeNext(this.rcvNxt); d !== null; d = q.takeNext(this.rcvNxt)) {
      this._deliver(d);
      if (this._isClosed()) return;
    }
  }

  private _peerFin(): void {
    this._oooFin = -1;
    this.rcvNxt = add(this.rcvNxt, 1);
    switch (this.state) {
      case TcpState.Established: this.state = TcpState.CloseWait; break;
      case TcpState.FinWait1:
        if (this._finSent && lt(this._finSeq, this.sndUna)) this._enterTimeWait();
        else this.state = TcpState.Closing;
        break;
      case TcpState.FinWait2: this._enterTimeWait(); break;
      default:
    }
    this._sendAck();
    if (!this._isClosed()) this._ev.onPeerFin(this);
  }

  // ---- output -----------------------------------------------------------------------------

  private _dataStart(): number {
    // The first unacknowledged data byte: iss+1 until the SYN is acknowledged.
    return this.sndUna === this.iss ? add(this.iss, 1) : this.sndUna;
  }

  private _output(): void {
    const st = this.state;
    if (st !== TcpState.Established && st !== TcpState.CloseWait && st !== TcpState.FinWait1
      && st !== TcpState.Closing && st !== TcpState.LastAck) return;
    const mss = this.effectiveMss;
    for (;;) {
      // Re-read every round: an emit can bring back ACKs (synchronous peers) that move the
      // window, snd.una or cwnd under this loop.
      const wnd = Math.min(this.sndWnd, this.cwnd);
      const inflight = diff(this.sndNxt, this.sndUna);
      const sentData = Math.min(inflight, this._sndQ.length);
      const unsent = this._sndQ.length - sentData;
      const room = wnd - inflight;
      if (unsent > 0 && room > 0) {
        const len = Math.min(mss, unsent, room);
        // Sender SWS avoidance: no runt segment while a full one's worth is still coming.
        if (len < mss && len < unsent && inflight > 0) break;
        const seq = this.sndNxt;
        if (this._rttStartNs < 0 && seq === this._sndMax) { this._rttStartNs = this._now(); this._rttSeq = seq; }
        // State first, then the emit: the peer may answer synchronously (see the invariants).
        this._advanceNxt(len);
        this._armRto();
        this._emitData(seq, len, TH_ACK | (len === unsent ? TH_PSH : 0));
        if (this._isClosed()) return;
        continue;
      }
      if (unsent === 0 && this._finQueued && (!this._finSent || this.sndNxt === this._finSeq)) {
        if (!this._finSent) {
          this._finSent = true;
          this._finSeq = this.sndNxt;
          if (this.state === TcpState.Established) this.state = TcpState.FinWait1;
          else if (this.state === TcpState.CloseWait) this.state = TcpState.LastAck;
        }
        this._unackedSegs = 0;
        this._delAckAt = Infinity;
        this._advanceNxt(1);
        this._armRto();
        this._out.emit(this, TH_FIN | TH_ACK, this._finSeq, this.rcvNxt, this._rw.field(this.rcvNxt), 0, -1, 0, 0);
        if (this._isClosed()) return;
      }
      break;
    }
    if (this.sndWnd === 0 && this.sndNxt === this.sndUna && this._sndQ.length > 0 && this._persistAt === Infinity) {
      this._persistAt = this._now() + Math.min(this.rto * (1 << this._persistBackoff), this.cfg.maxRtoNs);
      this._schedule();
    }
  }

  private _advanceNxt(n: number): void {
    this.sndNxt = add(this.sndNxt, n);
    if (lt(this._sndMax, this.sndNxt)) this._sndMax = this.sndNxt;
  }

  private _emitData(seq: number, len: number, flags: number): void {
    this.bytesOut += len;
    this._unackedSegs = 0;
    this._delAckAt = Infinity;
    this._out.emit(this, flags, seq, this.rcvNxt, this._rw.field(this.rcvNxt), 0, -1, seq, len);
  }

  private _retransmitOne(): void {
    this.retransmits++;
    this._rttStartNs = -1; // Karn
    const st = this.state;
    if (st === TcpState.SynSent || st === TcpState.SynReceived) { this._sendSyn(st === TcpState.SynReceived); return; }
    const dataLeft = this._sndQ.length;
    const len = Math.min(this.effectiveMss, dataLeft);
    if (len > 0) this._emitData(this.sndUna, len, TH_ACK | (len === dataLeft ? TH_PSH : 0));
    else if (this._finSent) this._out.emit(this, TH_FIN | TH_ACK, this._finSeq, this.rcvNxt, this._rw.field(this.rcvNxt), 0, -1, 0, 0);
  }

  private _sendSyn(withAck: boolean): void {
    const win = Math.min(this.cfg.rcvBuf, 65535);
    const ws = withAck ? (this._peerOfferedWs ? this._rw.offerShift : -1) : this._rw.offerShift;
    this._armRto();
    this._out.emit(this, TH_SYN | (withAck ? TH_ACK : 0), this.iss, withAck ? this.rcvNxt : 0, win, this.cfg.mss, ws, 0, 0);
  }

  private _sendAck(): void {
    this._unackedSegs = 0;
    this._delAckAt = Infinity;
    this._out.emit(this, TH_ACK, this.sndNxt, this.rcvNxt, this._rw.field(this.rcvNxt), 0, -1, 0, 0);
  }

  // ---- options, RTT, timers ---------------------------------------------------------------

  private _peerOfferedWs = false;

  private _takeSynOptions(seg: TcpSegment): void {
    if (seg.mss > 0) this._peerMss = Math.max(64, Math.min(seg.mss, 65495));
    if (seg.wscale >= 0) {
      this._peerOfferedWs = true;
      this._sndShift = Math.min(seg.wscale, 14); // RFC 7323 2.3: larger shifts are taken as 14
      this._rw.shift = this._rw.offerShift;
    } else {
      this._sndShift = 0;
      this._rw.shift = 0;
    }
  }

  private _ackedSyn(): void {
    this._rw.resetEdge(this.rcvNxt);
    this._cc.start(this.effectiveMss);
    this._retries = 0;
    this._rtoAt = Infinity;
    if (this._rttStartNs < 0) this._rtt.atLeastMin();
  }

  private _armRto(): void {
    if (this._rtoAt === Infinity) { this._rtoAt = this._now() + this.rto; this._schedule(); }
  }

  private _enterTimeWait(): void {
    this.state = TcpState.TimeWait;
    this._rtoAt = Infinity;
    this._persistAt = Infinity;
    this._timeWaitAt = this._now() + this.cfg.timeWaitNs;
    this._schedule();
  }

  private _schedule(): void {
    const at = Math.min(this._rtoAt, this._delAckAt, this._persistAt, this._timeWaitAt);
    if (at !== Infinity) this._timers.schedule(this, at);
  }

  onTimer(now: number): void {
    if (this.state === TcpState.Closed) return;
    if (now >= this._timeWaitAt) { this._timeWaitAt = Infinity; this._finish('closed'); return; }
    if (now >= this._delAckAt) { this._delAckAt = Infinity; if (this._synchronized()) this._sendAck(); }
    if (this._isClosed()) return;
    if (now >= this._rtoAt) {
      this._rtoAt = Infinity;
      if (++this._retries > this.cfg.maxRetries) { this._reset('timeout'); return; }
      this._cc.onTimeout(diff(this._sndMax, this.sndUna), this.effectiveMss);
      this._rtt.backoff();
      this.retransmits++;
      this.timeouts++;
      this._rttStartNs = -1; // Karn: no sample from a retransmitted segment
      if (this.state === TcpState.SynSent || this.state === TcpState.SynReceived) {
        this._sendSyn(this.state === TcpState.SynReceived);
      } else {
        this.sndNxt = this.sndUna; // go back N; _output resends data, then the FIN
        this._output();
      }
      if (this._isClosed()) return;
      if (this.sndUna !== this._sndMax) this._armRto();
    }
    if (now >= this._persistAt) {
      this._persistAt = Infinity;
      if (this.sndWnd === 0 && this._sndQ.length > 0 && this._synchronized()) {
        // Zero-window probe: an old sequence number makes the peer answer with its window.
        if (this._persistBackoff < 6) this._persistBackoff++;
        this._persistAt = now + Math.min(this.rto * (1 << this._persistBackoff), this.cfg.maxRtoNs);
        this._schedule();
        this._out.emit(this, TH_ACK, add(this.sndUna, -1 >>> 0), this.rcvNxt, this._rw.field(this.rcvNxt), 0, -1, 0, 0);
        if (this._isClosed()) return;
      }
    }
    this._schedule();
  }

  /** Send RST and close with `reason`. */
  private _reset(reason: TcpCloseReason): void {
    const rst = this.state !== TcpState.SynSent && this.state !== TcpState.SynPending && this.state !== TcpState.TimeWait;
    const seq = this.sndNxt;
    const ack = this.rcvNxt;
    this._finish(reason);
    if (rst) this._out.emit(this, TH_RST | TH_ACK, seq, ack, 0, 0, -1, 0, 0);
  }

  /** State re-read through a call, so narrowing does not hide changes made by owner callbacks. */
  private _isClosed(): boolean {
    return this.state === TcpState.Closed;
  }

  private _synchronized(): boolean {
    return this.state >= TcpState.SynReceived && this.state !== TcpState.TimeWait;
  }

  private _finish(reason: TcpCloseReason): void {
    if (this.state === TcpState.Closed) return;
    this.state = TcpState.Closed;
    this._closedReason = reason;
    this._rtoAt = this._delAckAt = this._persistAt = this._timeWaitAt = Infinity;
    this._timers.cancel(this);
    this._ooo.clear();
    this._ev.onClosed(this, reason);
  }

  private _assertState(s: TcpState, op: string): void {
    if (this.state !== s) throw new Error(`TcpConn.${op} in state ${this.stateName}`);
  }
}

/**
 * TCP's sender-side policies, kept apart from the state machine: Reno/NewReno congestion
 * control (RFC 5681, RFC 6582) and the retransmission timer estimate (RFC 6298).
 *
 * Invariants: cwnd >= 1 MSS once initialised; ssthresh >= 2 MSS after any loss event;
 * minRto <= rto <= maxRto; a retransmitted segment is never an RTT sample (Karn: the caller
 * only samples segments sent once).
 */
import { le } from './tcp_types.ts';

export class RenoCongestion {
  cwnd = 0;
  ssthresh = 0x7fffffff;
  private _dupAcks = 0;
  private _inRecovery = false;
  private _recover = 0;

  /** Initial window once the SYN is acknowledged (RFC 6928: 10 segments, at most 14600 B unless 2 MSS is more). */
  start(mss: number): void {
    this.cwnd = Math.min(10 * mss, Math.max(2 * mss, 14600));
  }

  /** `acked` new bytes up to `ack`; true on a NewReno partial ACK (retransmit the next hole). */
  onAck(ack: number, acked: number, mss: number): boolean {
    let partial = false;
    if (this._inRecovery) {
      if (le(this._recover, ack)) { this._inRecovery = false; this.cwnd = this.ssthresh; }
      else { partial = true; this.cwnd = Math.max(mss, this.cwnd - acked + mss); }
    } else if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, mss); // slow start
    } else {
      this.cwnd += Math.max(1, Math.floor((mss * mss) / this.cwnd)); // congestion avoidance
    }
    this._dupAcks = 0;
    return partial;
  }

  /** A duplicate ACK with `flight` bytes outstanding; true when fast retransmit starts. */
  onDupAck(flight: number, sndMax: number, mss: number): boolean {
    this._dupAcks++;
    if (this._dupAcks === 3 && !this._inRecovery) {
      this.ssthresh = Math.max(flight >> 1, 2 * mss);
      this._inRecovery = true;
      this._recover = sndMax;
      this.cwnd = this.ssthresh + 3 * mss;
      return true;
    }
    if (this._dupAcks > 3) this.cwnd += mss; // window inflation during recovery
    return false;
  }

  /** Retransmission timeout: back to one segment, slow start up to half the flight. */
  onTimeout(flight: number, mss: number): void {
    this.ssthresh = Math.max(flight >> 1, 2 * mss);
    this.cwnd = mss;
    this._inRecovery = false;
    this._dupAcks = 0;
  }
}

export class RtoEstimator {
  rto: number;
  private _srtt = 0;
  private _rttvar = 0;

  constructor(private readonly _minNs: number, private readonly _maxNs: number, initialNs: number) {
    this.rto = initialNs;
  }

  /** One round-trip measurement (RFC 6298 2.2 and 2.3; clock granularity taken as 1 ms). */
  sample(r: number): void {
    if (this._srtt === 0) { this._srtt = r; this._rttvar = r / 2; }
    else {
      this._rttvar = 0.75 * this._rttvar + 0.25 * Math.abs(this._srtt - r);
      this._srtt = 0.875 * this._srtt + 0.125 * r;
    }
    this.rto = Math.min(this._maxNs, Math.max(this._minNs, this._srtt + Math.max(1e6, 4 * this._rttvar)));
  }

  /** RFC 6298 5.5: double on every timeout, up to the maximum. */
  backoff(): void {
    this.rto = Math.min(this.rto * 2, this._maxNs);
  }

  /** No sample yet but the handshake is done: at least the minimum. */
  atLeastMin(): void {
    this.rto = Math.max(this.rto, this._minNs);
  }
}

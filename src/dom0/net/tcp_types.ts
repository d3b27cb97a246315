/**
 * TCP's vocabulary shared by the connection and its owners: the states (RFC 9293 3.3.2,
 * plus SYN-PENDING: a passive open held while the gateway connects the host side), the
 * output and event interfaces, the configuration, and sequence-number arithmetic.
 */
import type { TcpConn } from './tcp_conn.ts';

export const enum TcpState {
  Closed = 0, SynPending, SynSent, SynReceived, Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait,
}
export const TCP_STATE_NAMES = ['CLOSED', 'SYN-PENDING', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1',
  'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'] as const;

export type TcpCloseReason = 'closed' | 'reset' | 'refused' | 'timeout' | 'aborted';

/** Where a connection's segments go; the output copies payload with conn.copyPayload(). */
export interface TcpOutput {
  emit(conn: TcpConn, flags: number, seq: number, ack: number, window: number, mss: number, wscale: number, seqData: number, len: number): void;
}

/** What the connection tells its owner (the relay to a host socket, or a test). */
export interface TcpEvents {
  onEstablished(c: TcpConn): void;
  /** In-order bytes; the view is valid only during the call. The owner calls c.release(len) once it has disposed of them. */
  onData(c: TcpConn, data: Uint8Array): void;
  /** The peer sent FIN: no more data will come. */
  onPeerFin(c: TcpConn): void;
  /** Send-queue space opened below the low-water mark (resume the host reader). */
  onSendSpace(c: TcpConn): void;
  /** Final: the connection is gone (its TIME-WAIT, if any, is over). */
  onClosed(c: TcpConn, reason: TcpCloseReason): void;
}

export interface TcpConfig {
  /** Our MSS (MTU - 40). */
  readonly mss: number;
  /** Receive buffer: the most un-released data plus out-of-order data held. */
  readonly rcvBuf: number;
  /** Send queue high-water mark (sendSpace() <= 0 past it). */
  readonly sndBuf: number;
  readonly minRtoNs: number;
  readonly maxRtoNs: number;
  readonly initialRtoNs: number;
  readonly maxRetries: number;
  readonly delAckNs: number;
  readonly timeWaitNs: number;
}

export const DEFAULT_TCP_CONFIG: TcpConfig = {
  mss: 1460, rcvBuf: 256 * 1024, sndBuf: 256 * 1024,
  minRtoNs: 200e6, maxRtoNs: 60e9, initialRtoNs: 1e9, maxRetries: 10, delAckNs: 40e6, timeWaitNs: 2e9,
};

// Sequence-number arithmetic mod 2^32 (RFC 9293 3.4): valid while the two numbers are
// within 2^31 of each other, which windows of at most 2^30 (RFC 7323 2.3) guarantee.
export const lt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
export const le = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
export const add = (a: number, n: number): number => (a + n) >>> 0;
export const diff = (a: number, b: number): number => (a - b) | 0;

/** RFC 9293 3.10.7.4's acceptability test of a segment of segLen (data + SYN + FIN) at seq. */
export function segmentAcceptable(rcvNxt: number, seq: number, segLen: number, wnd: number): boolean {
  if (segLen === 0) return wnd === 0 ? seq === rcvNxt : le(rcvNxt, seq) && lt(seq, add(rcvNxt, wnd));
  if (wnd === 0) return false;
  const last = add(seq, segLen - 1);
  return (le(rcvNxt, seq) && lt(seq, add(rcvNxt, wnd))) || (le(rcvNxt, last) && lt(last, add(rcvNxt, wnd)));
}

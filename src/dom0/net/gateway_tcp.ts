/**
 * The gateway's TCP: every guest connection is terminated in a TcpConn and relayed to a
 * host socket (node:net through HostNet); every port-forwarded host connection is relayed
 * to a TcpConn the gateway opens towards the guest.
 *
 * Flow of a guest connect (slirp-like, but refusals are honest):
 *   guest SYN -> TcpConn.receiveSyn (SYN-PENDING) and host connect starts
 *   host connected -> conn.accept(): SYN-ACK to the guest      | host refused -> conn.refuse(): RST
 *   data both ways; backpressure: guest data is released to the TCP window only once the host
 *   socket took it; host data pauses the socket while the guest's send queue is full.
 *   FIN either way is relayed as a half-close (end()); RST either way destroys the other side.
 *
 * Invariants:
 * - A flow is in the table from its first SYN until its TcpConn reports onClosed, and its
 *   host socket is destroyed or ended by then: closing a flow never leaks a socket.
 * - A guest holds at most `tcpPerGuest` flows (TIME-WAIT included) and the table at most
 *   `tcpTotal`; a SYN past a limit is answered with RST and counted.
 * - Demultiplexing allocates nothing: two nested maps keyed by (guest ip, port) and
 *   (remote ip, port) packed into 48-bit numbers.
 */
import type { Ipv4Addr, MacAddr } from './addr.ts';
import { ipv4ToString } from './addr.ts';
import type { GatewayLink } from './gateway_link.ts';
import type { HostNet, HostPeer, HostTcpHandlers, HostTcpSocket } from './host_net.ts';
import { DEFAULT_TCP_CONFIG, TcpConn, TcpState, type TcpConfig, type TcpCloseReason, type TcpEvents, type TcpOutput } from './tcp_conn.ts';
import { TH_ACK, TH_RST, TH_SYN, type TcpSegment } from './tcp_wire.ts';
import type { TimerQueue } from './timers.ts';
import type { PacketTrace } from './trace.ts';

/** What the TCP part needs from the gateway around it. */
export interface TcpGatewayEnv {
  readonly link: GatewayLink;
  readonly host: HostNet;
  readonly timers: TimerQueue;
  readonly trace: PacketTrace;
  now(): number;
  random32(): number;
  /** Per-guest accounting: false refuses the new flow. */
  claim(guest: MacAddr, kind: 'tcp'): boolean;
  unclaim(guest: MacAddr, kind: 'tcp'): void;
}

export class TcpCounters {
  opened = 0;
  forwarded = 0;
  refused = 0;
  limited = 0;
  resets = 0;
  strays = 0;
}

const key = (ip: number, port: number): number => ip * 65536 + port;

/** Host socket bytes (not yet in the kernel) past which guest data waits for 'drain'. */
const HOST_BUFFERED_MAX = 64 * 1024;

class TcpFlow implements TcpOutput, TcpEvents {
  sock: HostTcpSocket | null = null;
  readonly conn: TcpConn;
  private _unreleased = 0;
  private _paused = false;
  private _sockClosed = false;
  private _label: string;

  constructor(
    private readonly _nat: GatewayTcp,
    readonly guestMac: MacAddr, readonly guestIp: Ipv4Addr, readonly guestPort: number,
    readonly farIp: Ipv4Addr, readonly farPort: number,
    readonly forwarded: boolean, cfg: TcpConfig,
  ) {
    const env = _nat.env;
    this.conn = new TcpConn(this, this, env.timers, () => env.now(), cfg);
    this._label = `${ipv4ToString(guestIp)}:${guestPort}<->${ipv4ToString(farIp)}:${farPort}`;
  }

  // TcpOutput: segments from the gateway (as farIp:farPort) to the guest.
  emit(c: TcpConn, flags: number, seq: number, ack: number, window: number, mss: number, ws: number, dataSeq: number, len: number): void {
    this._nat.env.link.sendTcp(this.guestMac, this.farIp, this.guestIp, this.farPort, this.guestPort, c, flags, seq, ack, window, mss, ws, dataSeq, len);
  }

  // TcpEvents: the guest side.
  onEstablished(): void {
    if (this.forwarded && this.sock) this.sock.resume();
  }

  onData(c: TcpConn, data: Uint8Array): void {
    const s = this.sock;
    if (s === null || this._sockClosed) { c.release(data.length); return; }
    const tr = this._nat.env.trace;
    if (tr.enabled) tr.record('socket-write', 'tcp', null, `${this._label} ${data.length}B`);
    // The host socket's buffer counts as part of our receive buffer: up to HOST_BUFFERED_MAX
    // the bytes are released into the TCP window at once; past that, on the socket's drain.
    s.write(data);
    if (this._unreleased === 0 && s.buffered <= HOST_BUFFERED_MAX) c.release(data.length);
    else this._unreleased += data.length;
  }

  onPeerFin(): void {
    this.sock?.end();
  }

  onSendSpace(): void {
    if (this._paused && this.sock) { this._paused = false; this.sock.resume(); }
  }

  onClosed(_c: TcpConn, reason: TcpCloseReason): void {
    const tr = this._nat.env.trace;
    if (tr.enabled) tr.record('gateway-nat', 'tcp', null, `${this._label} closed (${reason})`);
    if (this.sock && !this._sockClosed) {
      if (reason === 'closed') this.sock.end(); else this.sock.destroy();
    }
    this._nat._remove(this);
  }

  // HostTcpHandlers: the host side.
  onConnect(): void {
    if (this.conn.state === TcpState.SynPending) this.conn.accept(this._nat.env.random32());
  }

  onData_(chunk: Uint8Array): void {
    const c = this.conn;
    if (c.state === TcpState.Closed) return;
    const tr = this._nat.env.trace;
    if (tr.enabled) tr.record('socket-read', 'tcp', null, `${this._label} ${chunk.length}B`);
    c.send(chunk);
    if (c.sendSpace() <= 0 && !this._paused && this.sock) { this._paused = true; this.sock.pause(); }
  }

  onDrain(): void {
    if (this._unreleased > 0) {
      const n = this._unreleased;
      this._unreleased = 0;
      this.conn.release(n);
    }
  }

  onEnd(): void {
    this.conn.close();
  }

  onClose(error: string | null): void {
    this._sockClosed = true;
    const c = this.conn;
    if (c.state === TcpState.SynPending) { this._nat.counters.refused++; c.refuse(); return; }
    if (c.state === TcpState.Closed) return;
    if (error !== null) { this._nat.counters.resets++; c.abort(); return; }
    c.close();
  }
}

// HostTcpHandlers.onData collides with TcpEvents.onData by name; route the host's through a shim.
function hostHandlers(f: TcpFlow): HostTcpHandlers {
  return {
    onConnect: () => f.onConnect(),
    onData: (chunk) => f.onData_(chunk),
    onDrain: () => f.onDrain(),
    onEnd: () => f.onEnd(),
    onClose: (e) => f.onClose(e),
  };
}

export class GatewayTcp {
  readonly counters = new TcpCounters();
  private readonly _flows = new Map<number, Map<number, TcpFlow>>();
  private _count = 0;
  private readonly _cfg: TcpConfig;

  constructor(readonly env: TcpGatewayEnv, private readonly _limitTotal: number, tcp: Partial<TcpConfig> = {}) {
    this._cfg = { ...DEFAULT_TCP_CONFIG, mss: env.link.mss, ...tcp };
  }

  get flowCount(): number { return this._count; }

  /** Connection states, for `xl network-list`-like output and tests. */
  flows(): { guest: string; far: string; state: string; forwarded: boolean }[] {
    const out = [];
    for (const m of this._flows.values()) for (const f of m.values()) {
      out.push({ guest: `${ipv4ToString(f.guestIp)}:${f.guestPort}`, far: `${ipv4ToString(f.farIp)}:${f.farPort}`, state: f.conn.stateName, forwarded: f.forwarded });
    }
    return out;
  }

  /**
   * A segment from the guest. `hostIp` is where the relay connects (null: the address is
   * not reachable, so the guest gets RST).
   */
  input(guestMac: MacAddr, src: Ipv4Addr, dst: Ipv4Addr, seg: TcpSegment, frame: Uint8Array, target: HostPeer | null): void {
    const inner = this._flows.get(key(src, seg.srcPort));
    let flow = inner?.get(key(dst, seg.dstPort));
    if (flow !== undefined && flow.conn.state === TcpState.TimeWait && (seg.flags & (TH_SYN | TH_ACK | TH_RST)) === TH_SYN) {
      flow.conn.abort(); // RFC 9293 3.6.1: a new SYN may reopen a connection in TIME-WAIT
      flow = undefined;
    }
    if (flow !== undefined) { flow.conn.input(seg, frame); return; }
    if ((seg.flags & (TH_SYN | TH_ACK | TH_RST)) !== TH_SYN) {
      this.counters.strays++;
      this._strayReset(guestMac, src, dst, seg);
      return;
    }
    if (target === null || target.port === 0) { this.counters.refused++; this._strayReset(guestMac, src, dst, seg); return; }
    if (this._count >= this._limitTotal || !this.env.claim(guestMac, 'tcp')) {
      this.counters.limited++;
      this._strayReset(guestMac, src, dst, seg);
      return;
    }
    const f = new TcpFlow(this, guestMac, src, seg.srcPort, dst, seg.dstPort, false, this._cfg);
    this._insert(f);
    f.conn.receiveSyn(seg);
    this.counters.opened++;
    const tr = this.env.trace;
    if (tr.enabled) tr.record('gateway-nat', 'tcp', null, `${ipv4ToString(src)}:${seg.srcPort} -> ${target.ip}:${target.port} connect`);
    f.sock = this.env.host.connectTcp(target.ip, target.port, hostHandlers(f));
  }

  /** A host connection accepted on a forwarded port: open a connection to the guest. */
  forward(accept: (h: HostTcpHandlers) => HostTcpSocket, guestMac: MacAddr, gwIp: Ipv4Addr, guestIp: Ipv4Addr, guestPort: number): boolean {
    if (this._count >= this._limitTotal || !this.env.claim(guestMac, 'tcp')) { this.counters.limited++; return false; }
    let port = 0;
    const inner = this._flows.get(key(guestIp, guestPort));
    for (let i = 0; i < 64 && port === 0; i++) {
      const p = 49152 + (this.env.random32() % 16384);
      if (!inner?.has(key(gwIp, p))) port = p;
    }
    if (port === 0) { this.env.unclaim(guestMac, 'tcp'); this.counters.limited++; return false; }
    const f = new TcpFlow(this, guestMac, guestIp, guestPort, gwIp, port, true, this._cfg);
    this._insert(f);
    f.sock = accept(hostHandlers(f));
    f.sock.pause();
    this.counters.forwarded++;
    f.conn.connect(this.env.random32());
    return true;
  }

  /** Reset every flow of a guest (its port went away). */
  dropGuest(guestMac: MacAddr): void {
    for (const m of [...this._flows.values()]) for (const f of [...m.values()]) if (f.guestMac === guestMac) f.conn.abort();
  }

  /** Reset everything (gateway shutdown). */
  closeAll(): void {
    for (const m of [...this._flows.values()]) for (const f of [...m.values()]) f.conn.abort();
  }

  private _insert(f: TcpFlow): void {
    const k1 = key(f.guestIp, f.guestPort);
    let m = this._flows.get(k1);
    if (m === undefined) { m = new Map(); this._flows.set(k1, m); }
    m.set(key(f.farIp, f.farPort), f);
    this._count++;
  }

  /** @internal TcpFlow.onClosed */
  _remove(f: TcpFlow): void {
    const k1 = key(f.guestIp, f.guestPort);
    const m = this._flows.get(k1);
    if (m === undefined || m.get(key(f.farIp, f.farPort)) !== f) return;
    m.delete(key(f.farIp, f.farPort));
    if (m.size === 0) this._flows.delete(k1);
    this._count--;
    this.env.unclaim(f.guestMac, 'tcp');
  }

  /** RFC 9293 3.10.7.1: a segment for no connection gets a RST (unless it is one). */
  private _strayReset(guestMac: MacAddr, src: Ipv4Addr, dst: Ipv4Addr, seg: TcpSegment): void {
    if (seg.flags & TH_RST) return;
    const link = this.env.link;
    if (seg.flags & TH_ACK) {
      link.sendTcp(guestMac, dst, src, seg.dstPort, seg.srcPort, null, TH_RST, seg.ack, 0, 0, 0, -1, 0, 0);
    } else {
      const segLen = seg.payloadLen + (seg.flags & TH_SYN ? 1 : 0) + (seg.flags & 1 ? 1 : 0);
      link.sendTcp(guestMac, dst, src, seg.dstPort, seg.srcPort, null, TH_RST | TH_ACK, 0, (seg.seq + segLen) >>> 0, 0, 0, -1, 0, 0);
    }
  }
}

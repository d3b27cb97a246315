/**
 * A minimal IPv4 endpoint on a bridge port: DHCP client, ARP, ICMP echo, UDP and TCP (the
 * same TcpConn the gateway uses, as client or server). It is the network stack of the
 * TypeScript test and benchmark guests (tests/net, bench/net.ts), and what a dom0 tool uses
 * to talk on xenbr0 itself. It is not the only peer the gateway is tested against:
 * tests/net/netns.test.ts runs the Linux kernel's stack through a TAP device.
 *
 * Invariants: one address (from DHCP or set), one gateway; frames it sends are built in one
 * scratch buffer (the bridge does not retain them); waiting helpers (until) use host timers
 * and reject with what they waited for.
 */
import type { Clock } from '../../hw/clock.ts';
import { asIpv4, IPV4_ANY, IPV4_BROADCAST, MAC_BROADCAST, parseIpv4, readIpv4, type Ipv4Addr, type MacAddr } from './addr.ts';
import { ArpPacket, ARPOP_REPLY, ARPOP_REQUEST, buildArp } from './arp.ts';
import type { Bridge, BridgePort, BridgePortHandle } from './bridge.ts';
import { finish, sum16 } from './checksum.ts';
import { buildDhcpRequest, DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, readDhcpReply } from './dhcp.ts';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IPV4, ethType, writeEthHeader } from './ethernet.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, Ipv4Error, Ipv4Header, writeIpv4Header } from './ipv4.ts';
import { DEFAULT_TCP_CONFIG, TcpConn, type TcpCloseReason, type TcpConfig, type TcpEvents, type TcpOutput } from './tcp_conn.ts';
import { TcpError, TcpSegment, TH_ACK, TH_RST, TH_SYN, tcpOptionsLen, writeTcpHeader } from './tcp_wire.ts';
import type { TimerQueue } from './timers.ts';
import { UdpError, UdpHeader, writeUdpHeader } from './udp.ts';

export const GW = parseIpv4('10.0.2.2');
export const DNS = parseIpv4('10.0.2.3');

/** A TCP connection of the guest, collecting what it receives. */
export class GuestTcp implements TcpOutput, TcpEvents {
  readonly conn: TcpConn;
  readonly chunks: Uint8Array[] = [];
  received = 0;
  established = false;
  peerFin = false;
  closed: TcpCloseReason | null = null;
  waiters: (() => void)[] = [];

  constructor(private readonly _g: GuestStack, readonly localPort: number, readonly remoteIp: Ipv4Addr, readonly remotePort: number, cfg: TcpConfig) {
    this.conn = new TcpConn(this, this, _g.timers, () => _g.clock.nowNs(), cfg);
  }

  emit(c: TcpConn, flags: number, seq: number, ack: number, win: number, mss: number, ws: number, dataSeq: number, len: number): void {
    this._g.sendTcp(this.remoteIp, this.localPort, this.remotePort, c, flags, seq, ack, win, mss, ws, dataSeq, len);
  }
  onEstablished(): void { this.established = true; this._wake(); }
  onData(c: TcpConn, d: Uint8Array): void { this.chunks.push(d.slice()); this.received += d.length; c.release(d.length); this._wake(); }
  onPeerFin(): void { this.peerFin = true; this._wake(); }
  onSendSpace(): void { this._wake(); }
  onClosed(_c: TcpConn, r: TcpCloseReason): void { this.closed = r; this._g._tcpClosed(this); this._wake(); }
  private _wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  data(): Uint8Array {
    const o = new Uint8Array(this.received);
    let i = 0;
    for (const c of this.chunks) { o.set(c, i); i += c.length; }
    return o;
  }

  /** Resolve when pred() holds (re-checked on every event), or reject after ms. */
  until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`GuestTcp: timed out waiting for ${what} (state ${this.conn.stateName}, received ${this.received})`)), ms);
      const check = (): void => { if (pred()) { clearTimeout(t); resolve(); } else this.waiters.push(check); };
      check();
    });
  }

  /** Send all of data, respecting the send queue's space. */
  async sendAll(data: Uint8Array, chunk = 32768): Promise<void> {
    for (let off = 0; off < data.length;) {
      await this.until(() => this.conn.sendSpace() > 0 || this.closed !== null, 30_000, 'send space');
      if (this.closed !== null) throw new Error(`connection closed (${this.closed}) while sending`);
      const n = Math.min(chunk, data.length - off);
      this.conn.send(data.subarray(off, off + n));
      off += n;
    }
  }
}

export class GuestStack implements BridgePort {
  readonly name: string;
  ip: Ipv4Addr = IPV4_ANY;
  gwMac: MacAddr | undefined;
  handle: BridgePortHandle | null = null;
  readonly udpIn: { src: Ipv4Addr; sport: number; dport: number; data: Uint8Array }[] = [];
  readonly icmpIn: { src: Ipv4Addr; type: number; code: number; data: Uint8Array }[] = [];
  readonly rawIn: Uint8Array[] = [];
  private readonly _buf = new Uint8Array(ETH_HLEN + 65535);
  private readonly _ipH = new Ipv4Header();
  private readonly _udpH = new UdpHeader();
  private readonly _seg = new TcpSegment();
  private readonly _arp = new ArpPacket();
  private readonly _tcp = new Map<string, GuestTcp>();
  private readonly _listen = new Map<number, (c: GuestTcp) => void>();
  private _dhcpReplies: Uint8Array[] = [];
  private _nextPort = 40000;
  private _ipId = 0;
  private _wakers: (() => void)[] = [];
  tcpCfg: TcpConfig = DEFAULT_TCP_CONFIG;

  constructor(readonly mac: MacAddr, readonly clock: Clock, readonly timers: TimerQueue, name = 'vif-test') {
    this.name = name;
  }

  attach(bridge: Bridge): this {
    this.handle = bridge.attach(this);
    return this;
  }

  /** Send a raw frame (hostile tests). */
  send(frame: Uint8Array): void { this.handle?.send(frame); }

  deliver(f: Uint8Array): void {
    this.rawIn.push(f.slice());
    if (this.rawIn.length > 1000) this.rawIn.splice(0, 500);
    const t = ethType(f);
    if (t === ETH_P_ARP) {
      const a = this._arp;
      if (!a.parse(f)) return;
      if (a.spa === GW) this.gwMac = a.sha;
      if (a.op === ARPOP_REQUEST && a.tpa === this.ip && this.ip !== IPV4_ANY) {
        const n = buildArp(this._buf, a.sha, ARPOP_REPLY, this.mac, this.ip, a.sha, a.spa);
        this.send(this._buf.subarray(0, n));
      }
    } else if (t === ETH_P_IPV4) {
      const h = this._ipH;
      if (h.parse(f, ETH_HLEN, f.length - ETH_HLEN) !== Ipv4Error.Ok) return;
      if (h.dst !== this.ip && h.dst !== IPV4_BROADCAST && this.ip !== IPV4_ANY) return;
      if (h.protocol === IPPROTO_UDP) {
        const u = this._udpH;
        if (u.parse(f, h.payloadOff, h.payloadLen, h.src, h.dst) !== UdpError.Ok) return;
        const data = f.slice(u.payloadOff, u.payloadOff + u.payloadLen);
        if (u.dstPort === 68) this._dhcpReplies.push(data);
        else this.udpIn.push({ src: h.src, sport: u.srcPort, dport: u.dstPort, data });
      } else if (h.protocol === IPPROTO_ICMP) {
        if (finish(sum16(f, h.payloadOff, h.payloadLen)) !== 0) return;
        this.icmpIn.push({ src: h.src, type: f[h.payloadOff], code: f[h.payloadOff + 1], data: f.slice(h.payloadOff, h.payloadOff + h.payloadLen) });
      } else if (h.protocol === IPPROTO_TCP) {
        const s = this._seg;
        if (s.parse(f, h.payloadOff, h.payloadLen, h.src, h.dst) !== TcpError.Ok) return;
        const k = `${s.dstPort}/${h.src}:${s.srcPort}`;
        let c = this._tcp.get(k);
        if (c === undefined && (s.flags & (TH_SYN | TH_ACK | TH_RST)) === TH_SYN && this._listen.has(s.dstPort)) {
          c = new GuestTcp(this, s.dstPort, h.src, s.srcPort, this.tcpCfg);
          this._tcp.set(k, c);
          c.conn.receiveSyn(s);
          c.conn.accept(0x12345678);
          this._listen.get(s.dstPort)!(c);
          return;
        }
        c?.conn.input(s, f);
      }
    }
    this._wake();
  }

  private _wake(): void { const w = this._wakers; this._wakers = []; for (const f of w) f(); }

  until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`GuestStack: timed out waiting for ${what}`)), ms);
      const check = (): void => { if (pred()) { clearTimeout(t); resolve(); } else this._wakers.push(check); };
      check();
    });
  }

  async dhcp(): Promise<Ipv4Addr> {
    const xid = 0x1234;
    const udp = (payload: Uint8Array): void => this.sendUdpFrom(IPV4_ANY, IPV4_BROADCAST, MAC_BROADCAST, 68, 67, payload);
    this._dhcpReplies = [];
    udp(buildDhcpRequest(DHCPDISCOVER, xid, this.mac));
    await this.until(() => this._dhcpReplies.some((r) => readDhcpReply(r)?.type === DHCPOFFER), 5000, 'DHCPOFFER');
    const offer = readDhcpReply(this._dhcpReplies.find((r) => readDhcpReply(r)?.type === DHCPOFFER)!)!;
    this._dhcpReplies = [];
    udp(buildDhcpRequest(DHCPREQUEST, xid, this.mac, { requestedIp: offer.yiaddr, serverId: GW }));
    await this.until(() => this._dhcpReplies.length > 0, 5000, 'DHCPACK');
    const ack = readDhcpReply(this._dhcpReplies[0])!;
    if (ack.type !== DHCPACK) throw new Error(`DHCP: expected ACK, got type ${ack.type}`);
    this.ip = ack.yiaddr;
    return this.ip;
  }

  async resolveGateway(): Promise<MacAddr> {
    const n = buildArp(this._buf, MAC_BROADCAST, ARPOP_REQUEST, this.mac, this.ip, asMacZero, GW);
    this.send(this._buf.subarray(0, n));
    await this.until(() => this.gwMac !== undefined, 3000, 'ARP reply from the gateway');
    return this.gwMac!;
  }

  sendUdpFrom(src: Ipv4Addr, dst: Ipv4Addr, dstMac: MacAddr, sport: number, dport: number, data: Uint8Array): void {
    const b = this._buf;
    b.set(data, ETH_HLEN + 28);
    writeUdpHeader(b, ETH_HLEN + 20, src, dst, sport, dport, data.length);
    writeIpv4Header(b, ETH_HLEN, IPPROTO_UDP, src, dst, 8 + data.length, ++this._ipId);
    writeEthHeader(b, dstMac, this.mac, ETH_P_IPV4);
    this.send(b.subarray(0, ETH_HLEN + 28 + data.length));
  }

  sendUdp(dst: Ipv4Addr, sport: number, dport: number, data: Uint8Array): void {
    this.sendUdpFrom(this.ip, dst, this.gwMac!, sport, dport, data);
  }

  ping(dst: Ipv4Addr, id: number, seq: number, payload: Uint8Array): void {
    const b = this._buf;
    const o = ETH_HLEN + 20;
    b[o] = 8; b[o + 1] = 0; b[o + 2] = 0; b[o + 3] = 0;
    b[o + 4] = id >> 8; b[o + 5] = id & 0xff; b[o + 6] = seq >> 8; b[o + 7] = seq & 0xff;
    b.set(payload, o + 8);
    const c = finish(sum16(b, o, 8 + payload.length));
    b[o + 2] = c >> 8; b[o + 3] = c & 0xff;
    writeIpv4Header(b, ETH_HLEN, IPPROTO_ICMP, this.ip, dst, 8 + payload.length, ++this._ipId);
    writeEthHeader(b, this.gwMac!, this.mac, ETH_P_IPV4);
    this.send(b.subarray(0, o + 8 + payload.length));
  }

  sendTcp(dst: Ipv4Addr, sport: number, dport: number, c: TcpConn | null, flags: number, seq: number, ack: number, win: number, mss: number, ws: number, dataSeq: number, len: number): void {
    const b = this._buf;
    const l4 = ETH_HLEN + 20;
    const hl = 20 + tcpOptionsLen(mss, ws);
    if (len && c) c.copyPayload(dataSeq, b, l4 + hl, len);
    writeTcpHeader(b, l4, this.ip, dst, sport, dport, seq, ack, flags, win, mss, ws, len);
    writeIpv4Header(b, ETH_HLEN, IPPROTO_TCP, this.ip, dst, hl + len, ++this._ipId);
    writeEthHeader(b, this.gwMac!, this.mac, ETH_P_IPV4);
    this.send(b.subarray(0, l4 + hl + len));
  }

  connect(dst: Ipv4Addr, port: number, iss = 1000): GuestTcp {
    const lp = this._nextPort++;
    const c = new GuestTcp(this, lp, dst, port, this.tcpCfg);
    this._tcp.set(`${lp}/${dst}:${port}`, c);
    c.conn.connect(iss);
    return c;
  }

  listen(port: number, onConn: (c: GuestTcp) => void): void {
    this._listen.set(port, onConn);
  }

  get openTcp(): number { return this._tcp.size; }

  /** @internal */
  _tcpClosed(c: GuestTcp): void {
    for (const [k, v] of this._tcp) if (v === c) this._tcp.delete(k);
  }
}

// SAFETY: the zero MAC in an ARP request's target hardware field (RFC 826: ignored).
const asMacZero = 0 as MacAddr;
export { asIpv4, readIpv4 };

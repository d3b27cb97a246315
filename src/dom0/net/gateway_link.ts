/**
 * The gateway's transmit side: builds Ethernet/IPv4/L4 frames into one scratch buffer and
 * sends them on the gateway's bridge port. The bridge does not retain a sent view, so the
 * scratch buffer is reused for every frame; a payload copy is made exactly once, into it.
 *
 * Invariants: every frame leaves with correct IPv4 and L4 checksums; UDP and ICMP
 * datagrams larger than the MTU are fragmented (RFC 791 3.2) and sent without DF; TCP
 * never needs it (segments are cut to the MSS).
 */
import type { Ipv4Addr, MacAddr } from './addr.ts';
import type { BridgePortHandle } from './bridge.ts';
import { finish, sum16 } from './checksum.ts';
import { ETH_HLEN, ETH_P_IPV4, writeEthHeader } from './ethernet.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_HLEN, writeIpv4Header } from './ipv4.ts';
import type { PacketTrace } from './trace.ts';
import type { TcpConn } from './tcp_conn.ts';
import { TCP_HLEN, tcpOptionsLen, writeTcpHeader } from './tcp_wire.ts';
import { UDP_HLEN, writeUdpHeader } from './udp.ts';

const L3 = ETH_HLEN;

export class GatewayLink {
  handle: BridgePortHandle | null = null;
  framesOut = 0;
  private readonly _buf = new Uint8Array(ETH_HLEN + 65535);
  private readonly _frag = new Uint8Array(ETH_HLEN + 1500);
  private _ipId = 1;

  constructor(readonly mac: MacAddr, readonly mtu: number, private readonly _trace: PacketTrace) {}

  /** The largest L4 payload of a TCP segment we build (MTU - 40). */
  get mss(): number { return this.mtu - IPV4_HLEN - TCP_HLEN; }

  send(frame: Uint8Array): void {
    const h = this.handle;
    if (h === null) return;
    this.framesOut++;
    if (this._trace.enabled) this._trace.record('gateway-out', 'gateway', frame);
    h.send(frame);
  }

  /** Write a whole frame (already built elsewhere, e.g. ARP) from the scratch buffer. */
  get scratch(): Uint8Array { return this._buf; }

  sendTcp(dstMac: MacAddr, src: Ipv4Addr, dst: Ipv4Addr, sport: number, dport: number, conn: TcpConn | null,
    flags: number, seq: number, ack: number, window: number, mss: number, wscale: number, dataSeq: number, len: number): void {
    const b = this._buf;
    const l4 = L3 + IPV4_HLEN;
    const hl = TCP_HLEN + tcpOptionsLen(mss, wscale);
    if (len > 0 && conn !== null) conn.copyPayload(dataSeq, b, l4 + hl, len);
    writeTcpHeader(b, l4, src, dst, sport, dport, seq, ack, flags, window, mss, wscale, len);
    writeIpv4Header(b, L3, IPPROTO_TCP, src, dst, hl + len, this._nextId());
    writeEthHeader(b, dstMac, this.mac, ETH_P_IPV4);
    this.send(b.subarray(0, l4 + hl + len));
  }

  sendUdp(dstMac: MacAddr, src: Ipv4Addr, sport: number, dst: Ipv4Addr, dport: number, data: Uint8Array): void {
    if (data.length > 65535 - IPV4_HLEN - UDP_HLEN) return;
    const b = this._buf;
    const l4 = L3 + IPV4_HLEN;
    b.set(data, l4 + UDP_HLEN);
    writeUdpHeader(b, l4, src, dst, sport, dport, data.length);
    this._sendIp(dstMac, IPPROTO_UDP, src, dst, UDP_HLEN + data.length);
  }

  /** ICMP message whose type/code/rest-of-header and body are already at scratch[L3+20 ..]. */
  sendIcmp(dstMac: MacAddr, src: Ipv4Addr, dst: Ipv4Addr, len: number): void {
    const b = this._buf;
    const l4 = L3 + IPV4_HLEN;
    b[l4 + 2] = 0; b[l4 + 3] = 0;
    const c = finish(sum16(b, l4, len));
    b[l4 + 2] = c >>> 8; b[l4 + 3] = c & 0xff;
    this._sendIp(dstMac, IPPROTO_ICMP, src, dst, len);
  }

  /** Offset in scratch where an ICMP/UDP/TCP message starts. */
  static readonly L4 = L3 + IPV4_HLEN;

  private _sendIp(dstMac: MacAddr, proto: number, src: Ipv4Addr, dst: Ipv4Addr, l4len: number): void {
    const b = this._buf;
    const maxPayload = this.mtu - IPV4_HLEN;
    if (l4len <= maxPayload) {
      writeIpv4Header(b, L3, proto, src, dst, l4len, this._nextId(), false);
      writeEthHeader(b, dstMac, this.mac, ETH_P_IPV4);
      this.send(b.subarray(0, L3 + IPV4_HLEN + l4len));
      return;
    }
    // Fragment: every piece but the last carries a multiple of 8 bytes.
    const id = this._nextId();
    const step = maxPayload & ~7;
    const f = this._frag;
    for (let off = 0; off < l4len; off += step) {
      const n = Math.min(step, l4len - off);
      const more = off + n < l4len;
      f.set(b.subarray(L3 + IPV4_HLEN + off, L3 + IPV4_HLEN + off + n), L3 + IPV4_HLEN);
      writeIpv4Header(f, L3, proto, src, dst, n, id, false);
      const fo = (off >> 3) | (more ? 0x2000 : 0);
      f[L3 + 6] = fo >>> 8; f[L3 + 7] = fo & 0xff;
      f[L3 + 10] = 0; f[L3 + 11] = 0;
      const c = finish(sum16(f, L3, IPV4_HLEN));
      f[L3 + 10] = c >>> 8; f[L3 + 11] = c & 0xff;
      writeEthHeader(f, dstMac, this.mac, ETH_P_IPV4);
      this.send(f.subarray(0, L3 + IPV4_HLEN + n));
    }
  }

  private _nextId(): number {
    this._ipId = (this._ipId + 1) & 0xffff;
    return this._ipId;
  }
}


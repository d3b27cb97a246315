/**
 * dom0's own address on xenbr0 (10.0.2.1 by default, beside the user-mode gateway's
 * 10.0.2.2): what `ping` and a UDP client in dom0 are on a real Xen host. The toolstack's
 * dom0Ping/dom0UdpEcho use it (the minios scenarios' "ping IP N" and "udp-echo IP PORT N"
 * actions, which refxen's dom0-run.sh does with busybox ping and a Python socket).
 *
 * Invariants: every step is taken in a frame callback or at the call, never after an
 * await, so an exchange progresses while a host run loop steps the guests synchronously
 * (the virtual clock never yields to the event loop); one request is outstanding per
 * exchange (the next goes when the previous is answered), like `ping -c` and the echo
 * client; an exchange that loses a frame ends at its host-time timeout with what it got.
 */
import {
  IPV4_ANY, MAC_BROADCAST, MAC_ZERO, parseIpv4, parseMac, type Ipv4Addr, type MacAddr,
} from '../net/addr.ts';
import { ArpPacket, ARPOP_REPLY, ARPOP_REQUEST, buildArp } from '../net/arp.ts';
import type { Bridge, BridgePort, BridgePortHandle } from '../net/bridge.ts';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IPV4, ethType, writeEthHeader } from '../net/ethernet.ts';
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IcmpError, parseIcmp, writeIcmpChecksum } from '../net/icmp.ts';
import { IPPROTO_ICMP, IPPROTO_UDP, Ipv4Error, Ipv4Header, writeIpv4Header } from '../net/ipv4.ts';
import { UdpError, UdpHeader, writeUdpHeader } from '../net/udp.ts';

export interface PingResult {
  readonly sent: number;
  readonly received: number;
}

export interface UdpEchoResult {
  readonly sent: number;
  /** Datagrams echoed back byte for byte. */
  readonly ok: number;
}

/** What a ping or an echo client does: its first request, and each frame from the peer. */
interface Inner {
  start(): void;
  frame(f: Uint8Array, ip: Ipv4Header): void;
}

/** One exchange in progress: it sees every ARP and IPv4 frame from its peer to dom0. */
interface Exchange {
  readonly peer: Ipv4Addr;
  /** An ARP frame from the peer (askedUs: a request for dom0's address). */
  arp(mac: MacAddr, askedUs: boolean): void;
  frame(f: Uint8Array, ip: Ipv4Header): void;
}

export class Dom0NetEndpoint implements BridgePort {
  readonly name = 'dom0';
  readonly mac: MacAddr;
  readonly ip: Ipv4Addr;
  private readonly _handle: BridgePortHandle;
  private readonly _buf = new Uint8Array(ETH_HLEN + 65535);
  private readonly _arp = new ArpPacket();
  private readonly _ipH = new Ipv4Header();
  private readonly _exchanges = new Set<Exchange>();
  private _ipId = 0;
  private _icmpId = 0x7d00;
  private _udpPort = 45000;

  constructor(bridge: Bridge, opts: { ip?: string; mac?: string } = {}) {
    this.ip = parseIpv4(opts.ip ?? '10.0.2.1');
    this.mac = parseMac(opts.mac ?? '02:16:3e:00:00:01');
    this._handle = bridge.attach(this);
  }

  close(): void {
    this._handle.detach();
    this._exchanges.clear();
  }

  /** `ping -c count ip`: echo requests one after another; resolves with the replies counted. */
  ping(ip: string, count: number, timeoutMs = 10_000): Promise<PingResult> {
    const id = (this._icmpId = (this._icmpId + 1) & 0xffff);
    const peer = parseIpv4(ip);
    let sent = 0, received = 0;
    return this._run(peer, timeoutMs, (finish, send) => {
      const next = (): void => {
        const seq = ++sent;
        send(() => this._echoRequest(peer, id, seq));
      };
      return {
        start: next,
        frame: (f, h) => {
          if (h.protocol !== IPPROTO_ICMP || parseIcmp(f, h.payloadOff, h.payloadLen) !== IcmpError.Ok) return;
          const o = h.payloadOff;
          if (f[o] !== ICMP_ECHO_REPLY || ((f[o + 4]! << 8) | f[o + 5]!) !== id || ((f[o + 6]! << 8) | f[o + 7]!) !== sent) return;
          received++;
          if (sent === count) finish();
          else next();
        },
      };
    }, () => ({ sent, received }));
  }

  /** Send `count` datagrams (100, 150, ... bytes, like dom0-run.sh) to ip:port, each after the last came back. */
  udpEcho(ip: string, port: number, count: number, timeoutMs = 10_000): Promise<UdpEchoResult> {
    const sport = this._udpPort = this._udpPort >= 60000 ? 45000 : this._udpPort + 1;
    const peer = parseIpv4(ip), u = new UdpHeader();
    let sent = 0, ok = 0, want = new Uint8Array(0);
    return this._run(peer, timeoutMs, (finish, send) => {
      const next = (): void => {
        const data = want = new Uint8Array(100 + sent * 50).map((_, k) => (sent * 7 + k) & 255);
        sent++;
        send(() => this._udp(peer, sport, port, data));
      };
      return {
        start: next,
        frame: (f, h) => {
          if (h.protocol !== IPPROTO_UDP || u.parse(f, h.payloadOff, h.payloadLen, h.src, h.dst) !== UdpError.Ok) return;
          if (u.dstPort !== sport || u.srcPort !== port) return;
          const got = f.subarray(u.payloadOff, u.payloadOff + u.payloadLen);
          if (got.length !== want.length || !got.every((b, i) => b === want[i])) return; // a late duplicate, or garbage
          ok++;
          if (sent === count) finish();
          else next();
        },
      };
    }, () => ({ sent, ok }));
  }

  deliver(f: Uint8Array): void {
    const t = ethType(f);
    if (t === ETH_P_ARP) {
      const a = this._arp;
      if (!a.parse(f) || a.spa === IPV4_ANY) return;
      const peer = a.spa, mac = a.sha, askedUs = a.op === ARPOP_REQUEST && a.tpa === this.ip;
      if (askedUs) {
        const n = buildArp(this._buf, mac, ARPOP_REPLY, this.mac, this.ip, mac, peer);
        this._handle.send(this._buf.subarray(0, n));
      }
      for (const x of [...this._exchanges]) if (x.peer === peer) x.arp(mac, askedUs);
    } else if (t === ETH_P_IPV4) {
      const h = this._ipH;
      if (h.parse(f, ETH_HLEN, f.length - ETH_HLEN) !== Ipv4Error.Ok || h.dst !== this.ip) return;
      for (const x of [...this._exchanges]) if (x.peer === h.src) x.frame(f, h);
    }
  }

  /**
   * Run one exchange: `make(finish, send)` builds it; send(build) sends the frame build()
   * writes into the scratch buffer (after the Ethernet header) to the peer, and remembers
   * it. It starts on the peer's answer to an ARP request (sent first every time, so the
   * peer knows dom0's address too). A peer that asks for dom0's address while a request
   * is outstanding dropped that request for want of it (minios does): it goes again.
   * Resolves with result() when finished or at the timeout.
   */
  private _run<R>(peer: Ipv4Addr, timeoutMs: number,
    make: (finish: () => void, send: (build: () => number) => void) => Inner, result: () => R): Promise<R> {
    return new Promise<R>((resolve) => {
      let mac: MacAddr = MAC_ZERO, started = false;
      let last: (() => number) | null = null;
      const finish = (): void => {
        clearTimeout(timer);
        this._exchanges.delete(x);
        resolve(result());
      };
      const send = (build: () => number): void => {
        last = build;
        const len = build();
        writeEthHeader(this._buf, mac, this.mac, ETH_P_IPV4);
        this._handle.send(this._buf.subarray(0, len));
      };
      const inner = make(finish, send);
      const x: Exchange = {
        peer,
        arp: (m, askedUs) => {
          mac = m;
          if (!started) {
            started = true;
            inner.start();
          } else if (askedUs && last !== null) send(last);
        },
        frame: (f, h) => inner.frame(f, h),
      };
      const timer = setTimeout(finish, timeoutMs);
      this._exchanges.add(x);
      const n = buildArp(this._buf, MAC_BROADCAST, ARPOP_REQUEST, this.mac, this.ip, MAC_ZERO, peer);
      this._handle.send(this._buf.subarray(0, n));
    });
  }

  /** An echo request in the scratch buffer (Ethernet header written by send); returns the frame length. */
  private _echoRequest(dst: Ipv4Addr, id: number, seq: number): number {
    const b = this._buf, o = ETH_HLEN + 20, len = 8 + 56;
    b[o] = ICMP_ECHO_REQUEST; b[o + 1] = 0;
    b[o + 4] = id >> 8; b[o + 5] = id & 0xff; b[o + 6] = seq >> 8; b[o + 7] = seq & 0xff;
    for (let i = 8; i < len; i++) b[o + i] = i;
    writeIcmpChecksum(b, o, len);
    return this._ipHeader(dst, IPPROTO_ICMP, len);
  }

  private _udp(dst: Ipv4Addr, sport: number, dport: number, data: Uint8Array): number {
    const b = this._buf, o = ETH_HLEN + 20;
    b.set(data, o + 8);
    writeUdpHeader(b, o, this.ip, dst, sport, dport, data.length);
    return this._ipHeader(dst, IPPROTO_UDP, 8 + data.length);
  }

  private _ipHeader(dst: Ipv4Addr, proto: number, payloadLen: number): number {
    writeIpv4Header(this._buf, ETH_HLEN, proto, this.ip, dst, payloadLen, (this._ipId = (this._ipId + 1) & 0xffff));
    return ETH_HLEN + 20 + payloadLen;
  }
}

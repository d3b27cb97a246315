/**
 * The gateway's UDP: a NAT from guest (ip, port) to one host dgram socket each
 * (endpoint-independent mapping, RFC 4787 REQ-1), the DNS forwarder (10.0.2.3:53 relayed to
 * the host's resolver), and UDP port forwards (host port -> guest ip:port).
 *
 * Invariants:
 * - A flow lives while it carries traffic: `idleNs` after its last datagram (either
 *   direction) it is closed with its socket. Flows that only ever talked to the DNS
 *   forwarder use the shorter `dnsIdleNs`. The sweep runs on the TimerQueue.
 * - A guest holds at most `udpPerGuest` flows, the table at most `udpTotal`; a datagram that
 *   would open one more is dropped (`limited`).
 * - Replies are delivered with the source the guest expects: the resolver's replies come
 *   from 10.0.2.3:53, the host's loopback from 10.0.2.2, other hosts as themselves.
 */
import { ipv4ToString, parseIpv4, type Ipv4Addr, type MacAddr } from './addr.ts';
import type { GatewayLink } from './gateway_link.ts';
import type { HostListener, HostNet, HostPeer, HostUdpSocket } from './host_net.ts';
import type { Timed, TimerQueue } from './timers.ts';
import type { PacketTrace } from './trace.ts';

export interface UdpGatewayEnv {
  readonly link: GatewayLink;
  readonly host: HostNet;
  readonly timers: TimerQueue;
  readonly trace: PacketTrace;
  readonly gatewayIp: Ipv4Addr;
  readonly dnsIp: Ipv4Addr;
  readonly hostLoopback: string;
  readonly dnsUpstream: HostPeer;
  now(): number;
  random32(): number;
  claim(guest: MacAddr, kind: 'udp'): boolean;
  unclaim(guest: MacAddr, kind: 'udp'): void;
  /** The MAC of a guest address, if known (ARP cache). */
  macOf(ip: Ipv4Addr): MacAddr | undefined;
}

export class UdpCounters {
  flows = 0;
  limited = 0;
  toHost = 0;
  toGuest = 0;
  expired = 0;
  unmappable = 0;
}

interface UdpFlow {
  readonly guestMac: MacAddr;
  readonly guestIp: Ipv4Addr;
  readonly guestPort: number;
  readonly sock: HostUdpSocket;
  lastNs: number;
  dnsOnly: boolean;
}

/** One host peer talking to a forwarded UDP port, seen by the guest as 10.0.2.2:gwPort. */
interface FwdSession {
  readonly listener: HostUdpSocket & HostListener;
  readonly peer: HostPeer;
  readonly gwPort: number;
  readonly guestIp: Ipv4Addr;
  readonly guestPort: number;
  lastNs: number;
}

export class GatewayUdp implements Timed {
  readonly counters = new UdpCounters();
  timerAt = Infinity;
  private readonly _flows = new Map<number, UdpFlow>();
  private readonly _fwdByGwPort = new Map<number, FwdSession>();
  private readonly _fwdByPeer = new Map<string, FwdSession>();

  constructor(readonly env: UdpGatewayEnv, private readonly _limitTotal: number,
    private readonly _idleNs = 60e9, private readonly _dnsIdleNs = 10e9) {}

  get flowCount(): number { return this._flows.size; }

  /** A datagram from the guest to (dst, dport), already mapped to a host target or null. */
  output(guestMac: MacAddr, src: Ipv4Addr, sport: number, dst: Ipv4Addr, dport: number, data: Uint8Array, target: HostPeer | null): void {
    const env = this.env;
    if (dst === env.gatewayIp) {
      const s = this._fwdByGwPort.get(dport);
      if (s !== undefined && s.guestIp === src && s.guestPort === sport) {
        s.lastNs = env.now();
        this.counters.toHost++;
        s.listener.send(data, s.peer.ip, s.peer.port);
        return;
      }
    }
    if (target === null || target.port === 0) { this.counters.unmappable++; return; }
    const k = src * 65536 + sport;
    let f = this._flows.get(k);
    if (f === undefined) {
      if (this._flows.size >= this._limitTotal || !env.claim(guestMac, 'udp')) { this.counters.limited++; return; }
      const sock = env.host.openUdp((d, from) => this._fromHost(k, d, from));
      f = { guestMac, guestIp: src, guestPort: sport, sock, lastNs: 0, dnsOnly: true };
      this._flows.set(k, f);
      this.counters.flows++;
      if (env.trace.enabled) env.trace.record('gateway-nat', 'udp', null, `${ipv4ToString(src)}:${sport} new flow`);
    }
    if (dst !== env.dnsIp) f.dnsOnly = false;
    f.lastNs = env.now();
    this.counters.toHost++;
    if (env.trace.enabled) env.trace.record('socket-write', 'udp', null, `${ipv4ToString(src)}:${sport} -> ${target.ip}:${target.port} ${data.length}B`);
    f.sock.send(data, target.ip, target.port);
    this._arm();
  }

  private _fromHost(k: number, data: Uint8Array, from: HostPeer): void {
    const f = this._flows.get(k);
    if (f === undefined) return;
    const env = this.env;
    let srcIp: Ipv4Addr;
    let srcPort = from.port;
    if (from.ip === env.dnsUpstream.ip && from.port === env.dnsUpstream.port) { srcIp = env.dnsIp; srcPort = 53; }
    else if (from.ip === env.hostLoopback) srcIp = env.gatewayIp;
    else {
      try { srcIp = parseIpv4(from.ip); } catch { this.counters.unmappable++; return; }
    }
    f.lastNs = env.now();
    this.counters.toGuest++;
    if (env.trace.enabled) env.trace.record('socket-read', 'udp', null, `${from.ip}:${from.port} -> ${ipv4ToString(f.guestIp)}:${f.guestPort} ${data.length}B`);
    env.link.sendUdp(f.guestMac, srcIp, srcPort, f.guestIp, f.guestPort, data);
  }

  /** Datagram on a forwarded host port: deliver it to the guest from 10.0.2.2:<session port>. */
  fromForward(listener: HostUdpSocket & HostListener, guestIp: Ipv4Addr, guestPort: number, data: Uint8Array, peer: HostPeer): void {
    const env = this.env;
    const mac = env.macOf(guestIp);
    if (mac === undefined) { this.counters.unmappable++; return; }
    const pk = `${listener.port}/${peer.ip}:${peer.port}`;
    let s = this._fwdByPeer.get(pk);
    if (s === undefined) {
      if (this._fwdByPeer.size >= this._limitTotal) { this.counters.limited++; return; }
      let gwPort = 0;
      for (let i = 0; i < 64 && gwPort === 0; i++) {
        const p = 49152 + (env.random32() % 16384);
        if (!this._fwdByGwPort.has(p)) gwPort = p;
      }
      if (gwPort === 0) { this.counters.limited++; return; }
      s = { listener, peer, gwPort, guestIp, guestPort, lastNs: 0 };
      this._fwdByPeer.set(pk, s);
      this._fwdByGwPort.set(gwPort, s);
    }
    s.lastNs = env.now();
    this.counters.toGuest++;
    env.link.sendUdp(mac, env.gatewayIp, s.gwPort, guestIp, guestPort, data);
    this._arm();
  }

  private _arm(): void {
    this.env.timers.schedule(this, this.env.now() + 1e9);
  }

  onTimer(now: number): void {
    for (const [k, f] of this._flows) {
      if (now - f.lastNs >= (f.dnsOnly ? this._dnsIdleNs : this._idleNs)) this._close(k, f, true);
    }
    for (const [pk, s] of this._fwdByPeer) {
      if (now - s.lastNs >= this._idleNs) { this._fwdByPeer.delete(pk); this._fwdByGwPort.delete(s.gwPort); }
    }
    if (this._flows.size || this._fwdByPeer.size) this._arm();
  }

  private _close(k: number, f: UdpFlow, expired: boolean): void {
    this._flows.delete(k);
    f.sock.close();
    this.env.unclaim(f.guestMac, 'udp');
    if (expired) this.counters.expired++;
  }

  dropGuest(guestMac: MacAddr): void {
    for (const [k, f] of this._flows) if (f.guestMac === guestMac) this._close(k, f, false);
  }

  closeAll(): void {
    for (const [k, f] of this._flows) this._close(k, f, false);
    this._fwdByPeer.clear();
    this._fwdByGwPort.clear();
  }
}

/**
 * The user-mode uplink gateway: a bridge port that is the router, DHCP server and DNS
 * forwarder of a private virtual network (10.0.2.0/24 by default, QEMU's user-network
 * layout) and relays guest traffic through ordinary host sockets, so no root privilege,
 * TAP device or host routing change is needed.
 *
 *   10.0.2.2  the gateway (router, DHCP server); also the host's loopback: TCP/UDP to
 *             10.0.2.2:P reaches 127.0.0.1:P on the host
 *   10.0.2.3  the DNS forwarder (UDP and TCP port 53 relayed to the host's resolver)
 *   10.0.2.15 the first DHCP address (then .16, .17, ... one per MAC)
 *
 * Per frame: Ethernet II only -> ARP (answered for the gateway's addresses; guest addresses
 * are learned) or IPv4 (validated; fragments reassembled with limits) -> ICMP echo to the
 * gateway answered here, DHCP served here, UDP to the UDP NAT, TCP to the TCP relay.
 *
 * What is not relayed: ICMP to outside addresses (Node has no ICMP socket; the guest gets
 * "destination unreachable, administratively prohibited" at once instead of a silent
 * timeout), IP protocols other than ICMP/UDP/TCP (dropped, counted), multicast and
 * broadcast other than DHCP, IPv6. With `restrict` the guest reaches only the host (10.0.2.2)
 * and the DNS forwarder, like slirp's restrict=on.
 *
 * Invariants:
 * - deliver() never throws on guest input and never keeps the frame: every rejection is a
 *   named counter (and a trace event when tracing).
 * - Everything a guest can make the gateway allocate is bounded per guest MAC (TCP flows,
 *   UDP flows, reassembly buffers) and in total; detachGuest() releases all of it.
 * - Deterministic given the frames, the Clock, the random32 source and the host callbacks:
 *   time only moves through `timers` (a driver calls timers.run(now)).
 */
import type { Clock } from '../../hw/clock.ts';
import {
  asIpv4, asMac, inSubnet, ipv4ToString, IPV4_ANY, IPV4_BROADCAST, isGroupMac, isMulticastIpv4, macToString,
  parseIpv4, parseMac, prefixMask, type Ipv4Addr, type MacAddr,
} from './addr.ts';
import { ArpPacket, ARPOP_REPLY, ARPOP_REQUEST, buildArp } from './arp.ts';
import type { Bridge, BridgePort, BridgePortHandle } from './bridge.ts';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpServer } from './dhcp.ts';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IPV4, ethDst, ethSrc, ethType, classify, EthKind } from './ethernet.ts';
import { GatewayLink } from './gateway_link.ts';
import { GatewayTcp } from './gateway_tcp.ts';
import { GatewayUdp } from './gateway_udp.ts';
import type { HostListener, HostNet, HostPeer } from './host_net.ts';
import { ICMP_ADMIN_PROHIBITED, ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IcmpError, parseIcmp } from './icmp.ts';
import { DEFAULT_REASSEMBLY_LIMITS, Reassembler, type ReassemblyLimits } from './ip_reassembly.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_ERROR_NAMES, Ipv4Error, Ipv4Header } from './ipv4.ts';
import type { TcpConfig } from './tcp_conn.ts';
import { TcpError, TCP_ERROR_NAMES, TcpSegment } from './tcp_wire.ts';
import { TimerQueue } from './timers.ts';
import { PacketTrace } from './trace.ts';
import { UdpError, UDP_ERROR_NAMES, UdpHeader } from './udp.ts';

export interface PortForward {
  readonly proto: 'tcp' | 'udp';
  /** Host address to listen on (default 127.0.0.1). */
  readonly hostIp?: string;
  /** Host port (0: pick one; see GatewayDeps.forwards after start()). */
  readonly hostPort: number;
  readonly guestIp: string;
  readonly guestPort: number;
}

export interface GatewayLimits {
  readonly tcpPerGuest: number;
  readonly udpPerGuest: number;
  readonly tcpTotal: number;
  readonly udpTotal: number;
  readonly arpEntries: number;
  readonly reassembly: ReassemblyLimits;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  tcpPerGuest: 256, udpPerGuest: 128, tcpTotal: 4096, udpTotal: 1024, arpEntries: 1024, reassembly: DEFAULT_REASSEMBLY_LIMITS,
};

export interface GatewayConfig {
  readonly mac?: string;
  readonly network?: string;
  readonly prefixLen?: number;
  readonly gatewayIp?: string;
  readonly dnsIp?: string;
  readonly dhcpStart?: string;
  readonly dhcpCount?: number;
  readonly leaseSeconds?: number;
  readonly mtu?: number;
  /** What 10.0.2.2 stands for on the host (default 127.0.0.1). */
  readonly hostLoopback?: string;
  /** Where DNS queries to dnsIp go; without one, DNS is refused (node_net.ts fills in the host's resolver). */
  readonly dnsUpstream?: HostPeer | null;
  /** Reach only the host and the DNS forwarder. */
  readonly restrict?: boolean;
  readonly limits?: Partial<GatewayLimits>;
  readonly tcp?: Partial<TcpConfig>;
  readonly udpIdleNs?: number;
  readonly forwards?: readonly PortForward[];
}

export interface GatewayDeps {
  readonly clock: Clock;
  readonly host: HostNet;
  /** Uniform uint32s for ISNs and ephemeral ports (seeded in tests). */
  readonly random32: () => number;
  readonly trace?: PacketTrace;
}

export class GatewayCounters {
  framesIn = 0;
  notForUs = 0;
  nonEthernetII = 0;
  arpReplies = 0;
  icmpEchoReplies = 0;
  icmpUnreachSent = 0;
  dhcp = 0;
  otherProtocol = 0;
  broadcastDropped = 0;
  martian = 0;
  spoofed = 0;
  readonly ipv4Errors: Record<string, number> = {};
  readonly udpErrors: Record<string, number> = {};
  readonly tcpErrors: Record<string, number> = {};
  icmpErrors = 0;
}

interface GuestUse { tcp: number; udp: number }

export class UserNetGateway implements BridgePort {
  readonly name = 'gateway';
  readonly mac: MacAddr;
  readonly gatewayIp: Ipv4Addr;
  readonly dnsIp: Ipv4Addr;
  readonly network: Ipv4Addr;
  readonly prefixLen: number;
  readonly counters = new GatewayCounters();
  readonly timers = new TimerQueue();
  readonly trace: PacketTrace;
  readonly dhcp: DhcpServer;
  readonly tcp: GatewayTcp;
  readonly udp: GatewayUdp;
  readonly reassembly: Reassembler;
  readonly link: GatewayLink;
  readonly restrict: boolean;
  readonly hostLoopback: string;
  readonly dnsUpstream: HostPeer | null;
  private readonly _limits: GatewayLimits;
  private readonly _arp = new Map<number, MacAddr>();
  private readonly _use = new Map<number, GuestUse>();
  private readonly _ip = new Ipv4Header();
  private readonly _arpPkt = new ArpPacket();
  private readonly _udpH = new UdpHeader();
  private readonly _tcpS = new TcpSegment();
  private readonly _reasmFrame = new Uint8Array(ETH_HLEN + 20 + 65535);
  private readonly _forwards: { fwd: PortForward; listener: HostListener }[] = [];
  private readonly _pendingArp = new Map<number, (() => void)[]>();
  private _handle: BridgePortHandle | null = null;

  constructor(private readonly _deps: GatewayDeps, cfg: GatewayConfig = {}) {
    this.mac = parseMac(cfg.mac ?? '52:55:0a:00:02:02');
    this.network = parseIpv4(cfg.network ?? '10.0.2.0');
    this.prefixLen = cfg.prefixLen ?? 24;
    if (!(this.prefixLen >= 8 && this.prefixLen <= 30)) throw new RangeError(`gateway prefixLen ${this.prefixLen} out of range 8..30`);
    this.gatewayIp = parseIpv4(cfg.gatewayIp ?? '10.0.2.2');
    this.dnsIp = parseIpv4(cfg.dnsIp ?? '10.0.2.3');
    const mtu = cfg.mtu ?? 1500;
    if (!(mtu >= 576 && mtu <= 9000)) throw new RangeError(`gateway mtu ${mtu} out of range 576..9000`);
    for (const [n, ip] of [['gatewayIp', this.gatewayIp], ['dnsIp', this.dnsIp]] as const) {
      if (!inSubnet(ip, this.network, this.prefixLen)) throw new RangeError(`gateway ${n} ${ipv4ToString(ip)} is outside ${ipv4ToString(this.network)}/${this.prefixLen}`);
    }
    this._limits = { ...DEFAULT_GATEWAY_LIMITS, ...cfg.limits };
    this.trace = _deps.trace ?? new PacketTrace(_deps.clock);
    this.restrict = cfg.restrict ?? false;
    this.hostLoopback = cfg.hostLoopback ?? '127.0.0.1';
    this.dnsUpstream = cfg.dnsUpstream ?? null;
    this.link = new GatewayLink(this.mac, mtu, this.trace);
    this.dhcp = new DhcpServer({
      serverIp: this.gatewayIp, router: this.gatewayIp, dns: this.dnsIp,
      netmask: asIpv4(prefixMask(this.prefixLen)),
      poolStart: parseIpv4(cfg.dhcpStart ?? '10.0.2.15'), poolSize: cfg.dhcpCount ?? 16,
      leaseSeconds: cfg.leaseSeconds ?? 86400, mtu,
    });
    this.reassembly = new Reassembler(this._limits.reassembly);
    const now = (): number => _deps.clock.nowNs();
    const claim = (g: MacAddr, kind: 'tcp' | 'udp'): boolean => this._claim(g, kind);
    const unclaim = (g: MacAddr, kind: 'tcp' | 'udp'): void => this._unclaim(g, kind);
    this.tcp = new GatewayTcp({ link: this.link, host: _deps.host, timers: this.timers, trace: this.trace, now, random32: _deps.random32, claim, unclaim },
      this._limits.tcpTotal, cfg.tcp);
    this.udp = new GatewayUdp({
      link: this.link, host: _deps.host, timers: this.timers, trace: this.trace, gatewayIp: this.gatewayIp, dnsIp: this.dnsIp,
      hostLoopback: this.hostLoopback, dnsUpstream: this.dnsUpstream ?? { ip: '', port: 0 }, now, random32: _deps.random32, claim, unclaim,
      macOf: (ip) => this._arp.get(ip),
    }, this._limits.udpTotal, cfg.udpIdleNs ?? 60e9);
    this._forwardCfg = cfg.forwards ?? [];
  }

  private readonly _forwardCfg: readonly PortForward[];

  /** Attach to the bridge and open the port forwards' host listeners. */
  async start(bridge: Bridge): Promise<void> {
    if (this._handle !== null) throw new Error('gateway already started');
    this._handle = bridge.attach(this);
    this.link.handle = this._handle;
    for (const fwd of this._forwardCfg) await this.addForward(fwd);
  }

  /** Open one port forward now; returns the bound host port. */
  async addForward(fwd: PortForward): Promise<number> {
    const guestIp = parseIpv4(fwd.guestIp);
    if (!inSubnet(guestIp, this.network, this.prefixLen)) throw new RangeError(`port forward guestIp ${fwd.guestIp} is outside the gateway's network`);
    if (!(fwd.guestPort >= 1 && fwd.guestPort <= 65535)) throw new RangeError(`port forward guestPort ${fwd.guestPort} out of range 1..65535`);
    const hostIp = fwd.hostIp ?? '127.0.0.1';
    let listener: HostListener;
    if (fwd.proto === 'tcp') {
      listener = await this._deps.host.listenTcp(hostIp, fwd.hostPort, (accept, from) => {
        const tr = this.trace;
        if (tr.enabled) tr.record('gateway-nat', 'forward', null, `${from.ip}:${from.port} -> ${fwd.guestIp}:${fwd.guestPort}`);
        this._resolve(guestIp, (mac) => {
          if (mac === undefined || !this.tcp.forward(accept, mac, this.gatewayIp, guestIp, fwd.guestPort)) accept(NO_HANDLERS).destroy();
        });
      });
    } else {
      const l = await this._deps.host.listenUdp(hostIp, fwd.hostPort, (data, from) => this.udp.fromForward(l, guestIp, fwd.guestPort, data, from));
      listener = l;
    }
    this._forwards.push({ fwd, listener });
    return listener.port;
  }

  /** Bound forwards (hostPort is the real port when 0 was configured). */
  get forwards(): { proto: string; hostIp: string; hostPort: number; guest: string }[] {
    return this._forwards.map(({ fwd, listener }) => ({ proto: fwd.proto, hostIp: fwd.hostIp ?? '127.0.0.1', hostPort: listener.port, guest: `${fwd.guestIp}:${fwd.guestPort}` }));
  }

  /** Detach, reset every flow and close every host socket. */
  stop(): void {
    for (const f of this._forwards) f.listener.close();
    this._forwards.length = 0;
    this.tcp.closeAll();
    this.udp.closeAll();
    this._handle?.detach();
    this._handle = null;
    this.link.handle = null;
  }

  /** Release everything a guest holds (its vif was unplugged). */
  detachGuest(mac: MacAddr): void {
    this.tcp.dropGuest(mac);
    this.udp.dropGuest(mac);
    this.reassembly.dropGuest(mac);
    for (const [ip, m] of this._arp) if (m === mac) this._arp.delete(ip);
  }

  arpTable(): { ip: string; mac: string }[] {
    // SAFETY: keys are Ipv4Addr values put there by _learn.
    return [...this._arp].map(([ip, mac]) => ({ ip: ipv4ToString(ip as Ipv4Addr), mac: macToString(mac) }));
  }

  // ---- receive ----------------------------------------------------------------------------

  deliver(f: Uint8Array): void {
    this.counters.framesIn++;
    const tr = this.trace;
    if (tr.enabled) tr.record('gateway-in', 'gateway', f);
    if (classify(f) !== EthKind.Ok) { this.counters.nonEthernetII++; return; }
    // The bridge floods unknown unicast to every port: a frame for another station is not
    // ours to answer (a RST or ICMP error from us would break traffic between guests).
    const dst = ethDst(f);
    const toUs = dst === this.mac;
    if (!toUs && !isGroupMac(dst)) { this.counters.notForUs++; return; }
    const t = ethType(f);
    if (t === ETH_P_ARP) this._arpIn(f);
    else if (t === ETH_P_IPV4) this._ipIn(f, f.length, toUs);
    else this.counters.otherProtocol++;
  }

  private _drop(f: Uint8Array | null, why: string): void {
    if (this.trace.enabled) this.trace.record('gateway-drop', 'gateway', f, why);
  }

  private _arpIn(f: Uint8Array): void {
    const a = this._arpPkt;
    if (!a.parse(f)) { this.counters.nonEthernetII++; this._drop(f, 'malformed arp'); return; }
    if (a.spa !== IPV4_ANY && inSubnet(a.spa, this.network, this.prefixLen) && !this._isOurs(a.spa)) this._learn(a.spa, a.sha);
    if (a.op === ARPOP_REQUEST && this._isOurs(a.tpa) && a.spa !== a.tpa) {
      this.counters.arpReplies++;
      const b = this.link.scratch;
      const n = buildArp(b, a.sha, ARPOP_REPLY, this.mac, a.tpa, a.sha, a.spa);
      this.link.send(b.subarray(0, n));
    }
  }

  private _isOurs(ip: Ipv4Addr): boolean {
    return ip === this.gatewayIp || ip === this.dnsIp;
  }

  /** `toUs`: sent to our MAC (else to a group address: only DHCP is ours then). */
  private _ipIn(f: Uint8Array, avail: number, toUs: boolean): void {
    const h = this._ip;
    const err = h.parse(f, ETH_HLEN, avail - ETH_HLEN);
    if (err !== Ipv4Error.Ok) { this._count(this.counters.ipv4Errors, IPV4_ERROR_NAMES[err]); this._drop(f, `ipv4 ${IPV4_ERROR_NAMES[err]}`); return; }
    const src = h.src;
    const guest = ethSrc(f);
    const dst = h.dst;
    const isBcast = dst === IPV4_BROADCAST || dst === ((this.network | ~prefixMask(this.prefixLen)) >>> 0);
    if (src !== IPV4_ANY && inSubnet(src, this.network, this.prefixLen) && !this._isOurs(src)) {
      // An address leased to one MAC may not be used by another (ARP-cache poisoning, or
      // hijacking another guest's relayed flows).
      const owner = this.dhcp.boundMac(src);
      if (owner !== undefined && owner !== guest) { this.counters.spoofed++; this._drop(f, 'source address leased to another MAC'); return; }
      this._learn(src, guest);
    } else if (src !== IPV4_ANY) { this.counters.martian++; this._drop(f, 'source outside the virtual network'); return; }
    if (h.isFragment()) {
      if (!this.reassembly.add(h, f, guest, this._deps.clock.nowNs())) return;
      // Rebuild one unfragmented frame around the payload and parse it again.
      const p = this.reassembly.payload;
      const r = this._reasmFrame;
      r.set(f.subarray(0, ETH_HLEN + 20));
      r[ETH_HLEN] = 0x45;
      const total = 20 + p.length;
      r[ETH_HLEN + 2] = total >>> 8; r[ETH_HLEN + 3] = total & 0xff;
      r[ETH_HLEN + 6] = 0; r[ETH_HLEN + 7] = 0;
      r.set(p, ETH_HLEN + 20);
      r[ETH_HLEN + 10] = 0; r[ETH_HLEN + 11] = 0;
      let s = 0;
      for (let i = ETH_HLEN; i < ETH_HLEN + 20; i += 2) s += (r[i] << 8) | r[i + 1];
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      const c = ~s & 0xffff;
      r[ETH_HLEN + 10] = c >>> 8; r[ETH_HLEN + 11] = c & 0xff;
      this._ipIn(r.subarray(0, ETH_HLEN + total), ETH_HLEN + total, toUs);
      return;
    }
    if (!toUs && h.protocol !== IPPROTO_UDP) { this.counters.broadcastDropped++; return; }
    switch (h.protocol) {
      case IPPROTO_UDP: this._udpIn(f, guest, isBcast || !toUs); return;
      case IPPROTO_TCP:
        if (isBcast || isMulticastIpv4(dst)) { this.counters.broadcastDropped++; return; }
        this._tcpIn(f, guest);
        return;
      case IPPROTO_ICMP:
        if (isBcast || isMulticastIpv4(dst)) { this.counters.broadcastDropped++; return; }
        this._icmpIn(f, guest);
        return;
      default:
        this.counters.otherProtocol++;
        this._drop(f, `ip protocol ${h.protocol} not relayed`);
    }
  }

  /** Where the host side of a flow to dst:port goes, or null if the guest may not reach it. */
  private _target(dst: Ipv4Addr, port: number): HostPeer | null {
    if (dst === this.gatewayIp) return { ip: this.hostLoopback, port };
    if (dst === this.dnsIp) return port === 53 ? this.dnsUpstream : null;
    if (inSubnet(dst, this.network, this.prefixLen)) return null; // another guest: the bridge's business, not ours
    if (this.restrict || isMulticastIpv4(dst) || dst >>> 24 === 127 || dst >>> 24 === 0 || dst === IPV4_BROADCAST) return null;
    return { ip: ipv4ToString(dst), port };
  }

  private _udpIn(f: Uint8Array, guest: MacAddr, isBcast: boolean): void {
    const h = this._ip;
    const u = this._udpH;
    const err = u.parse(f, h.payloadOff, h.payloadLen, h.src, h.dst);
    if (err !== UdpError.Ok) { this._count(this.counters.udpErrors, UDP_ERROR_NAMES[err]); this._drop(f, `udp ${UDP_ERROR_NAMES[err]}`); return; }
    if (u.dstPort === DHCP_SERVER_PORT && (isBcast || h.dst === this.gatewayIp)) {
      this.counters.dhcp++;
      const r = this.dhcp.handle(f, u.payloadOff, u.payloadLen, this._deps.clock.nowNs());
      if (r !== null) {
        if (r.dstIp !== IPV4_BROADCAST) this._learn(r.dstIp, r.dstMac);
        this.link.sendUdp(r.dstMac, this.gatewayIp, DHCP_SERVER_PORT, r.dstIp, DHCP_CLIENT_PORT, r.payload);
      }
      return;
    }
    if (isBcast || isMulticastIpv4(h.dst)) { this.counters.broadcastDropped++; return; }
    this.udp.output(guest, h.src, u.srcPort, h.dst, u.dstPort, f.subarray(u.payloadOff, u.payloadOff + u.payloadLen), this._target(h.dst, u.dstPort));
  }

  private _tcpIn(f: Uint8Array, guest: MacAddr): void {
    const h = this._ip;
    const s = this._tcpS;
    const err = s.parse(f, h.payloadOff, h.payloadLen, h.src, h.dst);
    if (err !== TcpError.Ok) { this._count(this.counters.tcpErrors, TCP_ERROR_NAMES[err]); this._drop(f, `tcp ${TCP_ERROR_NAMES[err]}`); return; }
    this.tcp.input(guest, h.src, h.dst, s, f, this._target(h.dst, s.dstPort));
  }

  private _icmpIn(f: Uint8Array, guest: MacAddr): void {
    const h = this._ip;
    const off = h.payloadOff;
    if (parseIcmp(f, off, h.payloadLen) !== IcmpError.Ok) { this.counters.icmpErrors++; this._drop(f, 'icmp malformed'); return; }
    const type = f[off];
    if (type !== ICMP_ECHO_REQUEST) return; // errors and replies from a guest need no answer
    const L4 = GatewayLink.L4;
    const b = this.link.scratch;
    if (this._isOurs(h.dst)) {
      this.counters.icmpEchoReplies++;
      b.set(f.subarray(off, off + h.payloadLen), L4);
      b[L4] = ICMP_ECHO_REPLY; b[L4 + 1] = 0;
      this.link.sendIcmp(guest, h.dst, h.src, h.payloadLen);
      return;
    }
    if (inSubnet(h.dst, this.network, this.prefixLen)) return; // to another guest: not ours to answer
    // RFC 792 destination unreachable: our header, then the offending IP header + 8 bytes.
    this.counters.icmpUnreachSent++;
    const quote = Math.min(h.headerLen + 8, h.totalLen);
    b[L4] = ICMP_DEST_UNREACH; b[L4 + 1] = ICMP_ADMIN_PROHIBITED;
    b[L4 + 4] = 0; b[L4 + 5] = 0; b[L4 + 6] = 0; b[L4 + 7] = 0;
    b.set(f.subarray(ETH_HLEN, ETH_HLEN + quote), L4 + 8);
    this.link.sendIcmp(guest, this.gatewayIp, h.src, 8 + quote);
  }

  // ---- helpers ----------------------------------------------------------------------------

  private _learn(ip: Ipv4Addr, mac: MacAddr): void {
    const had = this._arp.get(ip);
    if (had === mac) return;
    if (had === undefined && this._arp.size >= this._limits.arpEntries) return;
    this._arp.set(ip, mac);
    const waiting = this._pendingArp.get(ip);
    if (waiting) { this._pendingArp.delete(ip); for (const w of waiting) w(); }
  }

  /** Call back with the guest MAC for ip, asking by ARP if needed (3 s, then undefined). */
  private _resolve(ip: Ipv4Addr, cb: (mac: MacAddr | undefined) => void): void {
    const known = this._arp.get(ip) ?? this._leaseMac(ip);
    if (known !== undefined) { cb(known); return; }
    const list = this._pendingArp.get(ip) ?? [];
    if (list.length >= 64) { cb(undefined); return; }
    const w = { timerAt: Infinity, done: false, onTimer: (): void => { if (!w.done) { w.done = true; cb(undefined); } } };
    list.push(() => { if (!w.done) { w.done = true; this.timers.cancel(w); cb(this._arp.get(ip)); } });
    this._pendingArp.set(ip, list);
    const b = this.link.scratch;
    const n = buildArp(b, asMac(0xffff_ffff_ffff), ARPOP_REQUEST, this.mac, this.gatewayIp, asMac(0), ip);
    this.link.send(b.subarray(0, n));
    this.timers.schedule(w, this._deps.clock.nowNs() + 3e9);
  }

  private _leaseMac(ip: Ipv4Addr): MacAddr | undefined {
    return this.dhcp.boundMac(ip);
  }

  private _claim(g: MacAddr, kind: 'tcp' | 'udp'): boolean {
    let u = this._use.get(g);
    if (u === undefined) { u = { tcp: 0, udp: 0 }; this._use.set(g, u); }
    const max = kind === 'tcp' ? this._limits.tcpPerGuest : this._limits.udpPerGuest;
    if (u[kind] >= max) return false;
    u[kind]++;
    return true;
  }

  private _unclaim(g: MacAddr, kind: 'tcp' | 'udp'): void {
    const u = this._use.get(g);
    if (u === undefined) return;
    u[kind]--;
    if (u.tcp <= 0 && u.udp <= 0) this._use.delete(g);
  }

  /** Flows a guest holds now (tests assert limits and cleanup with it). */
  usage(g: MacAddr): { tcp: number; udp: number } {
    const u = this._use.get(g);
    return { tcp: u?.tcp ?? 0, udp: u?.udp ?? 0 };
  }

  private _count(rec: Record<string, number>, name: string): void {
    rec[name] = (rec[name] ?? 0) + 1;
  }
}

const NO_HANDLERS = { onConnect() {}, onData() {}, onDrain() {}, onEnd() {}, onClose() {} };

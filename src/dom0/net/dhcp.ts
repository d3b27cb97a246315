/**
 * DHCP (RFC 2131, options RFC 2132): the message codec and the gateway's server.
 *
 * The server hands out addresses from a pool (10.0.2.15 and up by default) keyed by the
 * client's hardware address, like QEMU's user network: a MAC keeps its address across
 * DISCOVERs while its lease lives. Implemented messages: DISCOVER -> OFFER, REQUEST -> ACK
 * or NAK (selecting, init-reboot, renewing and rebinding), DECLINE (the address is held
 * back for a while), RELEASE, INFORM -> ACK.
 *
 * Invariants:
 * - parse() accepts only BOOTREQUESTs with htype 1 / hlen 6 and the magic cookie, and walks
 *   options with bounds checks (a truncated option list ends the walk). Option overload
 *   (52) is not supported: the sname/file fields are never read as options.
 * - One address is bound to at most one MAC; a MAC holds at most one address.
 * - Replies go where RFC 2131 4.1 says: ciaddr if set, else broadcast if the client asked
 *   for it (or for a NAK), else unicast to chaddr/yiaddr.
 */
import { asIpv4, asMac, IPV4_ANY, IPV4_BROADCAST, readIpv4, readMac, writeIpv4, writeMac, type Ipv4Addr, type MacAddr } from './addr.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const MAGIC = 0x63825363;
const OPTIONS_OFF = 240;
const BOOTP_MIN = 300; // RFC 1542 2.1: replies padded to the BOOTP minimum

export class DhcpMessage {
  op = 0;
  xid = 0;
  flags = 0;
  ciaddr: Ipv4Addr = IPV4_ANY;
  giaddr: Ipv4Addr = IPV4_ANY;
  chaddr: MacAddr = asMac(0);
  type = 0;
  requestedIp: Ipv4Addr = IPV4_ANY;
  serverId: Ipv4Addr = IPV4_ANY;

  /** Parse a UDP payload; false if it is not a well-formed Ethernet DHCP request. */
  parse(b: Uint8Array, off: number, len: number): boolean {
    if (len < OPTIONS_OFF) return false;
    if (b[off] !== BOOTREQUEST || b[off + 1] !== 1 || b[off + 2] !== 6) return false;
    if (readIpv4(b, off + 236) !== MAGIC) return false;
    this.op = b[off];
    this.xid = readIpv4(b, off + 4);
    this.flags = (b[off + 10] << 8) | b[off + 11];
    this.ciaddr = readIpv4(b, off + 12);
    this.giaddr = readIpv4(b, off + 24);
    this.chaddr = readMac(b, off + 28);
    this.type = 0;
    this.requestedIp = IPV4_ANY;
    this.serverId = IPV4_ANY;
    const end = off + len;
    for (let i = off + OPTIONS_OFF; i < end;) {
      const code = b[i];
      if (code === 255) break;
      if (code === 0) { i++; continue; }
      if (i + 1 >= end) break;
      const olen = b[i + 1];
      const v = i + 2;
      if (v + olen > end) break;
      if (code === 53 && olen === 1) this.type = b[v];
      else if (code === 50 && olen === 4) this.requestedIp = readIpv4(b, v);
      else if (code === 54 && olen === 4) this.serverId = readIpv4(b, v);
      i = v + olen;
    }
    return this.type >= DHCPDISCOVER && this.type <= DHCPINFORM;
  }
}

export interface DhcpConfig {
  readonly serverIp: Ipv4Addr;
  readonly netmask: Ipv4Addr;
  readonly router: Ipv4Addr;
  readonly dns: Ipv4Addr;
  readonly poolStart: Ipv4Addr;
  readonly poolSize: number;
  readonly leaseSeconds: number;
  readonly mtu: number;
}

/** A reply to send: UDP payload bytes and where to. */
export interface DhcpReply {
  readonly payload: Uint8Array;
  readonly dstIp: Ipv4Addr;
  readonly dstMac: MacAddr;
}

interface Lease {
  mac: MacAddr;
  ip: Ipv4Addr;
  expiresNs: number;
  bound: boolean;
}

export class DhcpServer {
  readonly counters = { offers: 0, acks: 0, naks: 0, poolExhausted: 0, declines: 0, releases: 0, ignored: 0 };
  private readonly _byMac = new Map<number, Lease>();
  private readonly _byIp = new Map<number, Lease>();
  private readonly _declined = new Map<number, number>(); // ip -> until ns
  private readonly _msg = new DhcpMessage();
  private readonly _out = new Uint8Array(576);

  constructor(readonly cfg: DhcpConfig) {
    if (!(cfg.poolSize >= 1 && cfg.poolSize <= 4096)) throw new RangeError(`dhcp poolSize ${cfg.poolSize} out of range 1..4096`);
  }

  /** The address leased to `mac`, if any (the gateway's ARP cache is seeded from this). */
  leaseOf(mac: MacAddr): Ipv4Addr | undefined {
    return this._byMac.get(mac)?.ip;
  }

  /** The MAC an address is bound to (an acknowledged lease), if any; O(1) for per-packet checks. */
  boundMac(ip: Ipv4Addr): MacAddr | undefined {
    const l = this._byIp.get(ip);
    return l !== undefined && l.bound ? l.mac : undefined;
  }

  leases(): { mac: MacAddr; ip: Ipv4Addr; bound: boolean }[] {
    return [...this._byMac.values()].map((l) => ({ mac: l.mac, ip: l.ip, bound: l.bound }));
  }

  /** Handle one request (UDP payload to port 67); returns the reply or null. */
  handle(b: Uint8Array, off: number, len: number, nowNs: number): DhcpReply | null {
    const m = this._msg;
    if (!m.parse(b, off, len)) { this.counters.ignored++; return null; }
    if (m.giaddr !== IPV4_ANY) { this.counters.ignored++; return null; } // no relays on a virtual segment
    switch (m.type) {
      case DHCPDISCOVER: {
        const l = this._allocate(m.chaddr, m.requestedIp, nowNs);
        if (!l) { this.counters.poolExhausted++; return null; }
        this.counters.offers++;
        return this._reply(b, off, DHCPOFFER, l.ip, true);
      }
      case DHCPREQUEST: {
        if (m.serverId !== IPV4_ANY && m.serverId !== this.cfg.serverIp) { // the client chose another server
          const l = this._byMac.get(m.chaddr);
          if (l && !l.bound) this._free(l);
          return null;
        }
        const want = m.requestedIp !== IPV4_ANY ? m.requestedIp : m.ciaddr;
        const l = want === IPV4_ANY ? undefined : this._allocate(m.chaddr, want, nowNs);
        if (!l || l.ip !== want) {
          if (l && !l.bound) this._free(l);
          this.counters.naks++;
          return this._reply(b, off, DHCPNAK, IPV4_ANY, false);
        }
        l.bound = true;
        l.expiresNs = nowNs + this.cfg.leaseSeconds * 1e9;
        this.counters.acks++;
        return this._reply(b, off, DHCPACK, l.ip, true);
      }
      case DHCPDECLINE: {
        const l = this._byMac.get(m.chaddr);
        if (l && l.ip === m.requestedIp) {
          this._free(l);
          this._declined.set(l.ip, nowNs + 600e9);
          this.counters.declines++;
        }
        return null;
      }
      case DHCPRELEASE: {
        const l = this._byMac.get(m.chaddr);
        if (l && l.ip === m.ciaddr) { this._free(l); this.counters.releases++; }
        return null;
      }
      case DHCPINFORM:
        this.counters.acks++;
        return this._reply(b, off, DHCPACK, IPV4_ANY, false);
      default:
        this.counters.ignored++;
        return null;
    }
  }

  private _inPool(ip: Ipv4Addr): boolean {
    const d = ip - this.cfg.poolStart;
    return d >= 0 && d < this.cfg.poolSize;
  }

  private _allocate(mac: MacAddr, want: Ipv4Addr, nowNs: number): Lease | undefined {
    const mine = this._byMac.get(mac);
    if (mine && (want === IPV4_ANY || want === mine.ip)) return mine;
    const usable = (ip: Ipv4Addr): boolean => {
      if (!this._inPool(ip)) return false;
      const until = this._declined.get(ip);
      if (until !== undefined && until > nowNs) return false;
      const l = this._byIp.get(ip);
      return l === undefined || l.mac === mac || l.expiresNs <= nowNs;
    };
    let ip: Ipv4Addr | undefined;
    if (want !== IPV4_ANY && usable(want)) ip = want;
    else if (mine) return mine;
    else {
      for (let i = 0; i < this.cfg.poolSize && ip === undefined; i++) {
        const c = asIpv4(this.cfg.poolStart + i);
        if (usable(c)) ip = c;
      }
    }
    if (ip === undefined) return undefined;
    if (mine) this._free(mine);
    const stale = this._byIp.get(ip);
    if (stale) this._free(stale);
    // An offer is held briefly; a REQUEST binds it for the lease time.
    const l: Lease = { mac, ip, expiresNs: nowNs + 60e9, bound: false };
    this._byMac.set(mac, l);
    this._byIp.set(ip, l);
    return l;
  }

  private _free(l: Lease): void {
    if (this._byMac.get(l.mac) === l) this._byMac.delete(l.mac);
    if (this._byIp.get(l.ip) === l) this._byIp.delete(l.ip);
  }

  private _reply(req: Uint8Array, off: number, type: number, yiaddr: Ipv4Addr, withLease: boolean): DhcpReply {
    const c = this.cfg;
    const m = this._msg;
    const o = this._out;
    o.fill(0);
    o[0] = BOOTREPLY; o[1] = 1; o[2] = 6; o[3] = 0;
    o.set(req.subarray(off + 4, off + 8), 4); // xid
    o[10] = req[off + 10]; o[11] = req[off + 11]; // flags
    if (type !== DHCPNAK) writeIpv4(o, 12, m.ciaddr);
    writeIpv4(o, 16, yiaddr);
    writeIpv4(o, 20, type === DHCPNAK ? IPV4_ANY : c.serverIp);
    o.set(req.subarray(off + 28, off + 44), 28); // chaddr
    writeIpv4(o, 236, asIpv4(MAGIC));
    let i = OPTIONS_OFF;
    const opt = (code: number, bytes: number[]): void => { o[i++] = code; o[i++] = bytes.length; for (const x of bytes) o[i++] = x; };
    const ip4 = (ip: number): number[] => [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff];
    opt(53, [type]);
    opt(54, ip4(c.serverIp));
    if (type !== DHCPNAK) {
      if (withLease) {
        opt(51, ip4(c.leaseSeconds));
        opt(58, ip4(Math.floor(c.leaseSeconds / 2)));
        opt(59, ip4(Math.floor((c.leaseSeconds * 7) / 8)));
      }
      opt(1, ip4(c.netmask));
      opt(3, ip4(c.router));
      opt(6, ip4(c.dns));
      opt(26, [c.mtu >>> 8, c.mtu & 0xff]);
    }
    o[i++] = 255;
    const len = Math.max(i, BOOTP_MIN);
    const broadcast = type === DHCPNAK || (m.flags & 0x8000) !== 0;
    let dstIp: Ipv4Addr;
    let dstMac: MacAddr = m.chaddr;
    if (type !== DHCPNAK && m.ciaddr !== IPV4_ANY) dstIp = m.ciaddr;
    else if (broadcast || yiaddr === IPV4_ANY) { dstIp = IPV4_BROADCAST; dstMac = asMac(0xffff_ffff_ffff); }
    else dstIp = yiaddr;
    return { payload: o.subarray(0, len), dstIp, dstMac };
  }
}

/** Build a DHCP client request (tests and tools): returns the UDP payload. */
export function buildDhcpRequest(type: number, xid: number, mac: MacAddr, opts: { requestedIp?: Ipv4Addr; serverId?: Ipv4Addr; ciaddr?: Ipv4Addr; broadcast?: boolean } = {}): Uint8Array {
  const o = new Uint8Array(300);
  o[0] = BOOTREQUEST; o[1] = 1; o[2] = 6;
  writeIpv4(o, 4, asIpv4(xid >>> 0));
  if (opts.broadcast) o[10] = 0x80;
  if (opts.ciaddr !== undefined) writeIpv4(o, 12, opts.ciaddr);
  writeMac(o, 28, mac);
  writeIpv4(o, 236, asIpv4(MAGIC));
  let i = OPTIONS_OFF;
  o[i++] = 53; o[i++] = 1; o[i++] = type;
  if (opts.requestedIp !== undefined) { o[i++] = 50; o[i++] = 4; writeIpv4(o, i, opts.requestedIp); i += 4; }
  if (opts.serverId !== undefined) { o[i++] = 54; o[i++] = 4; writeIpv4(o, i, opts.serverId); i += 4; }
  o[i++] = 255;
  return o;
}

/** Read the message type and yiaddr from a reply payload (tests and tools). */
export function readDhcpReply(b: Uint8Array): { type: number; yiaddr: Ipv4Addr; xid: number } | null {
  if (b.length < OPTIONS_OFF || b[0] !== BOOTREPLY || readIpv4(b, 236) !== MAGIC) return null;
  let type = 0;
  for (let i = OPTIONS_OFF; i + 1 < b.length && b[i] !== 255;) {
    if (b[i] === 0) { i++; continue; }
    if (b[i] === 53) type = b[i + 2];
    i += 2 + b[i + 1];
  }
  return { type, yiaddr: readIpv4(b, 16), xid: readIpv4(b, 4) };
}

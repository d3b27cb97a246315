/**
 * IPv4 fragment reassembly (RFC 791 3.2, RFC 815) with the limits a hostile guest needs.
 *
 * Invariants:
 * - A datagram is keyed by (src, dst, protocol, id) and owned by the guest (MAC) that sent
 *   its first fragment; a guest holds at most `maxPerGuest` incomplete datagrams and the
 *   reassembler at most `maxTotal`. A fragment that would open one more is dropped
 *   (`limit`), so a fragment flood costs the flooder its own reassembly and nobody else's.
 * - An incomplete datagram lives at most `timeoutNs` (RFC 791 suggests 15 s; Linux uses
 *   30 s); expiry discards it (`timeout`).
 * - Every fragment lies inside 65535 bytes of datagram; non-last fragments carry a multiple
 *   of 8 bytes. An exact duplicate (same offset, same length) is ignored; any other overlap
 *   discards the whole datagram (`overlap`, the RFC 5722 rule, safer than either "first
 *   wins" or "last wins" against overlapping-fragment evasion).
 * - Coverage is tracked per 8-byte unit; a datagram completes when the last fragment is
 *   known and every unit before it is present.
 */
import type { Ipv4Addr, MacAddr } from './addr.ts';
import type { Ipv4Header } from './ipv4.ts';

export interface ReassemblyLimits {
  readonly maxPerGuest: number;
  readonly maxTotal: number;
  readonly timeoutNs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = { maxPerGuest: 8, maxTotal: 64, timeoutNs: 30e9 };

class Datagram {
  readonly data = new Uint8Array(65535);
  readonly units = new Uint8Array(8192); // 1 = 8-byte unit received
  /** Offset+length of each fragment seen, for duplicate detection. */
  readonly spans: number[] = [];
  totalLen = -1; // payload length once the last fragment arrived
  received = 0;
  constructor(readonly key: string, readonly guest: MacAddr, readonly expiresNs: number) {}
}

export class Reassembler {
  readonly counters = { fragments: 0, reassembled: 0, limit: 0, timeout: 0, overlap: 0, oversize: 0, malformed: 0 };
  private readonly _dgrams = new Map<string, Datagram>();
  private readonly _perGuest = new Map<number, number>();
  /** The last completed datagram's payload (a view into reassembly memory, valid until the next add()). */
  payload: Uint8Array = new Uint8Array(0);

  constructor(readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}

  get pending(): number { return this._dgrams.size; }

  /**
   * Add the fragment whose header is `h` and payload b[h.payloadOff .. +h.payloadLen).
   * Returns true when this completed a datagram: its payload is then in `this.payload`.
   */
  add(h: Ipv4Header, b: Uint8Array, guest: MacAddr, nowNs: number): boolean {
    this.counters.fragments++;
    this.expire(nowNs);
    const off = h.fragOffset;
    const len = h.payloadLen;
    if ((h.moreFragments && (len === 0 || (len & 7) !== 0))) { this.counters.malformed++; return false; }
    if (off + len > 65535 - h.headerLen) { this.counters.oversize++; return false; }
    const key = keyOf(h.src, h.dst, h.protocol, h.id);
    let d = this._dgrams.get(key);
    if (d === undefined) {
      const n = this._perGuest.get(guest) ?? 0;
      if (n >= this.limits.maxPerGuest || this._dgrams.size >= this.limits.maxTotal) { this.counters.limit++; return false; }
      d = new Datagram(key, guest, nowNs + this.limits.timeoutNs);
      this._dgrams.set(key, d);
      this._perGuest.set(guest, n + 1);
    }
    const span = off * 65536 + len;
    if (d.spans.includes(span)) return false; // exact duplicate
    const u0 = off >> 3;
    const u1 = (off + len + 7) >> 3;
    for (let u = u0; u < u1; u++) {
      if (d.units[u]) { this._discard(d); this.counters.overlap++; return false; }
    }
    if (!h.moreFragments) {
      if (d.totalLen >= 0 || off + len < d.received) { this._discard(d); this.counters.overlap++; return false; }
      d.totalLen = off + len;
    } else if (d.totalLen >= 0 && off + len > d.totalLen) {
      this._discard(d); this.counters.overlap++; return false;
    }
    d.units.fill(1, u0, u1);
    d.spans.push(span);
    d.data.set(b.subarray(h.payloadOff, h.payloadOff + len), off);
    d.received = Math.max(d.received, off + len);
    if (d.totalLen < 0) return false;
    const need = (d.totalLen + 7) >> 3;
    for (let u = 0; u < need; u++) if (!d.units[u]) return false;
    this._discard(d);
    this.counters.reassembled++;
    this.payload = d.data.subarray(0, d.totalLen);
    return true;
  }

  /** Drop datagrams past their deadline. */
  expire(nowNs: number): void {
    for (const d of this._dgrams.values()) {
      if (d.expiresNs <= nowNs) { this._discard(d); this.counters.timeout++; }
    }
  }

  /** Forget everything a guest had in flight (its port went away). */
  dropGuest(guest: MacAddr): void {
    for (const d of this._dgrams.values()) if (d.guest === guest) this._discard(d);
  }

  private _discard(d: Datagram): void {
    if (this._dgrams.get(d.key) !== d) return;
    this._dgrams.delete(d.key);
    const n = (this._perGuest.get(d.guest) ?? 1) - 1;
    if (n <= 0) this._perGuest.delete(d.guest);
    else this._perGuest.set(d.guest, n);
  }
}

function keyOf(src: Ipv4Addr, dst: Ipv4Addr, proto: number, id: number): string {
  return `${src}/${dst}/${proto}/${id}`;
}

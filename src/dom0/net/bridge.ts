/**
 * xenbr0: a learning Ethernet switch between bridge ports (netback vifs, the user-mode
 * gateway, a TAP relay). It is the seam netback plugs into; docs/network.md describes it.
 *
 * The port contract (zero-copy):
 * - `handle.send(frame)` hands the bridge a view the sender owns. The bridge reads it during
 *   the call and does not keep it: the sender may reuse its buffer as soon as send() returns.
 * - `port.deliver(frame)` lends the port a read-only view for the duration of the call. The
 *   same view is lent to every port of a flood, so a port must not write into it, and must
 *   copy what it wants to keep (netback copies it into the guest's rx page anyway).
 * - Delivery is run-to-completion: deliver() is never re-entered. A frame sent while the
 *   bridge is delivering (a port answering from inside deliver()) is copied once into a
 *   pending queue and forwarded right after the current delivery; this is the only copy the
 *   bridge makes, and it is what bounds a synchronous ping-pong between two ports.
 *
 * Invariants:
 * - A frame never leaves by the port it came in on (no reflection), and there is one bridge
 *   with no bridge-to-bridge links, so no forwarding loop exists (no STP needed).
 * - MAC learning takes only valid unicast source addresses. A static MAC (a port's declared
 *   `mac`) is never re-learned on another port: a frame claiming it is dropped as spoofed.
 *   Learned entries age out after `ageingNs` of silence (IEEE 802.1D default 300 s), checked
 *   on lookup and swept at least every ageingNs/2. Time is read every `clockReadInterval`
 *   frames, so an entry may outlive its age by that many frames. Each port learns at most `maxMacsPerPort`
 *   addresses and the table holds at most `maxMacs`; past either, unknown sources are simply
 *   not learned (frames to them flood), so a MAC-flooding guest cannot evict others.
 * - Only untagged Ethernet II frames of 14..maxFrameLen bytes are forwarded; 802.1Q/802.1ad
 *   tagged frames are dropped (counted as `vlan`), as are 802.3 length-field frames (`llc`).
 */
import type { Clock } from '../../hw/clock.ts';
import { isGroupMac, macToString, MAC_ZERO, readMac, type MacAddr } from './addr.ts';
import { classify, EthKind } from './ethernet.ts';
import type { PacketTrace } from './trace.ts';

/** What a bridge port implements (netback's vif, the gateway, a TAP relay). */
export interface BridgePort {
  /** For counters and traces, e.g. "vif1.0". */
  readonly name: string;
  /** A static address: installed in the MAC table at attach, never aged, never stolen. */
  readonly mac?: MacAddr;
  /** A frame for this port; the view is read-only and valid only during the call. */
  deliver(frame: Uint8Array): void;
}

export interface PortOptions {
  /** Drop frames from this port whose source MAC is not `port.mac` (anti-spoofing). */
  readonly restrictSource?: boolean;
}

export class PortCounters {
  /** Frames/bytes the port sent into the bridge. */
  rxFrames = 0;
  rxBytes = 0;
  /** Frames/bytes the bridge delivered to the port. */
  txFrames = 0;
  txBytes = 0;
  /** Frames from this port the bridge refused (malformed, spoofed, oversize, detached). */
  rxDropped = 0;
}

/** What the bridge gives back from attach(): the port's way in, and its lifetime. */
export interface BridgePortHandle {
  readonly id: number;
  readonly name: string;
  readonly counters: PortCounters;
  readonly attached: boolean;
  /** Forward a frame from this port; bad frames are dropped and counted, never thrown. */
  send(frame: Uint8Array): void;
  /** Remove the port (hot unplug): forgets its MACs; later send() calls are dropped. */
  detach(): void;
}

export interface BridgeOptions {
  readonly name?: string;
  readonly ageingNs?: number;
  readonly maxMacs?: number;
  readonly maxMacsPerPort?: number;
  /** Largest frame forwarded, without FCS (default 1514: a 1500-byte MTU). */
  readonly maxFrameLen?: number;
  /** Frames queued during one delivery before the rest are dropped as a loop. */
  readonly maxPending?: number;
  readonly trace?: PacketTrace;
  /**
   * Frames between clock reads (default 16). Ageing needs seconds, not nanoseconds, and a
   * host clock read costs as much as forwarding a frame on some hosts (a VM without a vDSO
   * clock); 1 reads it for every frame (exact ageing, used by tests on virtual time).
   */
  readonly clockReadInterval?: number;
}

export class BridgeCounters {
  forwarded = 0;
  flooded = 0;
  /** Unicast to a MAC learned on the ingress port itself. */
  filtered = 0;
  runt = 0;
  oversize = 0;
  vlan = 0;
  llc = 0;
  badSource = 0;
  spoofed = 0;
  loop = 0;
  notLearned = 0;
}

interface MacEntry {
  port: PortSlot;
  lastNs: number;
  readonly isStatic: boolean;
}

class PortSlot implements BridgePortHandle {
  readonly counters = new PortCounters();
  attached = true;
  learned = 0;
  constructor(readonly bridge: Bridge, readonly id: number, readonly port: BridgePort, readonly restrictSource: boolean) {}
  get name(): string { return this.port.name; }
  send(frame: Uint8Array): void { this.bridge._input(this, frame); }
  detach(): void { this.bridge._detach(this); }
}

export class Bridge {
  readonly name: string;
  readonly counters = new BridgeCounters();
  private readonly _ageingNs: number;
  private readonly _maxMacs: number;
  private readonly _maxPerPort: number;
  private readonly _maxFrame: number;
  private readonly _maxPending: number;
  private readonly _trace: PacketTrace | undefined;
  private readonly _table = new Map<number, MacEntry>();
  private _ports: PortSlot[] = [];
  private _nextId = 1;
  private _nextSweepNs = 0;
  private _delivering = false;
  private readonly _pending: { from: PortSlot; frame: Uint8Array }[] = [];
  private readonly _pool: Uint8Array[] = [];
  private readonly _clockEvery: number;
  private _clockLeft = 0;
  private _nowNs = 0;

  constructor(private readonly _clock: Clock, opts: BridgeOptions = {}) {
    this.name = opts.name ?? 'xenbr0';
    this._ageingNs = opts.ageingNs ?? 300e9;
    this._maxMacs = opts.maxMacs ?? 8192;
    this._maxPerPort = opts.maxMacsPerPort ?? 256;
    this._maxFrame = opts.maxFrameLen ?? 1514;
    this._maxPending = opts.maxPending ?? 65536;
    this._trace = opts.trace;
    this._clockEvery = Math.max(1, Math.floor(opts.clockReadInterval ?? 16));
    if (!(this._ageingNs > 0)) throw new RangeError(`bridge ageingNs ${this._ageingNs} must be > 0`);
    if (!(this._maxFrame >= 60 && this._maxFrame <= 65535 + 14)) throw new RangeError(`bridge maxFrameLen ${this._maxFrame} out of range 60..65549`);
  }

  /** Hot plug a port. A static `port.mac` must not already be claimed by another port. */
  attach(port: BridgePort, opts: PortOptions = {}): BridgePortHandle {
    if (opts.restrictSource && port.mac === undefined) throw new RangeError(`bridge port ${port.name}: restrictSource needs a mac`);
    if (port.mac !== undefined) {
      if (isGroupMac(port.mac) || port.mac === MAC_ZERO) throw new RangeError(`bridge port ${port.name}: mac ${macToString(port.mac)} is not a unicast address`);
      const e = this._table.get(port.mac);
      if (e?.isStatic) throw new RangeError(`bridge port ${port.name}: mac ${macToString(port.mac)} already belongs to ${e.port.name}`);
    }
    const slot = new PortSlot(this, this._nextId++, port, opts.restrictSource === true);
    this._ports = [...this._ports, slot];
    if (port.mac !== undefined) {
      const old = this._table.get(port.mac);
      if (old) old.port.learned--;
      this._table.set(port.mac, { port: slot, lastNs: 0, isStatic: true });
    }
    return slot;
  }

  get ports(): readonly BridgePortHandle[] {
    return this._ports;
  }

  /** The MAC table, for `brctl showmacs`-like output and tests. */
  macTable(): { mac: MacAddr; port: string; isStatic: boolean; ageNs: number }[] {
    const now = this._clock.nowNs();
    const out = [];
    for (const [mac, e] of this._table) {
      if (!e.isStatic && now - e.lastNs > this._ageingNs) continue;
      // SAFETY: table keys are MacAddr values stored by _learn/attach.
      out.push({ mac: mac as MacAddr, port: e.port.name, isStatic: e.isStatic, ageNs: e.isStatic ? 0 : now - e.lastNs });
    }
    return out;
  }

  /** @internal PortSlot.send */
  _input(from: PortSlot, frame: Uint8Array): void {
    if (!from.attached) { from.counters.rxDropped++; return; }
    if (this._delivering) {
      if (this._pending.length >= this._maxPending) { this.counters.loop++; from.counters.rxDropped++; return; }
      const len = frame.length;
      let buf: Uint8Array;
      if (len <= 2048) {
        const b = this._pool.pop() ?? new Uint8Array(2048);
        b.set(frame);
        buf = b.subarray(0, len);
      } else {
        buf = frame.slice();
      }
      this._pending.push({ from, frame: buf });
      return;
    }
    this._delivering = true;
    try {
      this._forward(from, frame);
      // FIFO drain; frames sent by ports during these deliveries append to the same queue.
      for (let i = 0; i < this._pending.length; i++) {
        const p = this._pending[i];
        if (p.from.attached) this._forward(p.from, p.frame);
        else p.from.counters.rxDropped++;
        if (p.frame.buffer.byteLength === 2048) this._pool.push(new Uint8Array(p.frame.buffer));
      }
    } finally {
      this._pending.length = 0;
      this._delivering = false;
    }
  }

  private _forward(from: PortSlot, f: Uint8Array): void {
    const c = from.counters;
    const len = f.length;
    const kind = classify(f);
    if (kind !== EthKind.Ok) {
      if (kind === EthKind.Runt) this.counters.runt++;
      else if (kind === EthKind.Vlan) this.counters.vlan++;
      else this.counters.llc++;
      c.rxDropped++;
      this._drop(from, f, kind === EthKind.Runt ? 'runt' : kind === EthKind.Vlan ? 'vlan tag' : '802.3 length frame');
      return;
    }
    if (len > this._maxFrame) { this.counters.oversize++; c.rxDropped++; this._drop(from, f, 'oversize'); return; }
    const src = readMac(f, 6);
    if (isGroupMac(src) || src === MAC_ZERO) { this.counters.badSource++; c.rxDropped++; this._drop(from, f, 'bad source mac'); return; }
    if (from.restrictSource && src !== from.port.mac) { this.counters.spoofed++; c.rxDropped++; this._drop(from, f, 'source mac not the port\'s'); return; }
    if (--this._clockLeft <= 0) { this._nowNs = this._clock.nowNs(); this._clockLeft = this._clockEvery; }
    const now = this._nowNs;
    if (!this._learn(from, src, now)) { c.rxDropped++; this._drop(from, f, 'source mac is another port\'s static mac'); return; }
    c.rxFrames++;
    c.rxBytes += len;
    const t = this._trace;
    if (t !== undefined && t.enabled) t.record('bridge-in', from.name, f);
    const dst = readMac(f, 0);
    if (!isGroupMac(dst)) {
      const e = this._table.get(dst);
      if (e !== undefined && (e.isStatic || now - e.lastNs <= this._ageingNs)) {
        if (e.port === from) { this.counters.filtered++; return; }
        this.counters.forwarded++;
        this._deliver(e.port, f);
        return;
      }
      if (e !== undefined) this._forget(dst, e);
    }
    this.counters.flooded++;
    if (t !== undefined && t.enabled) t.record('bridge-flood', from.name, null, isGroupMac(dst) ? 'group address' : 'unknown unicast');
    const ports = this._ports; // detach during delivery replaces the array, so iterate a snapshot
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      if (p !== from && p.attached) this._deliver(p, f);
    }
  }

  private _deliver(p: PortSlot, f: Uint8Array): void {
    p.counters.txFrames++;
    p.counters.txBytes += f.length;
    const t = this._trace;
    if (t !== undefined && t.enabled) t.record('bridge-out', p.name, f);
    p.port.deliver(f);
  }

  private _drop(from: PortSlot, f: Uint8Array, why: string): void {
    const t = this._trace;
    if (t !== undefined && t.enabled) t.record('bridge-drop', from.name, f.length >= 14 ? f : null, why);
  }

  /** Learn src on `from`; false if src is another port's static address. */
  private _learn(from: PortSlot, src: MacAddr, now: number): boolean {
    if (now >= this._nextSweepNs) this._sweep(now);
    const e = this._table.get(src);
    if (e !== undefined) {
      if (e.isStatic) {
        if (e.port === from) return true;
        this.counters.spoofed++;
        return false;
      }
      if (e.port !== from) { // the station moved
        if (from.learned >= this._maxPerPort) { this._forget(src, e); this.counters.notLearned++; return true; }
        e.port.learned--;
        from.learned++;
        e.port = from;
      }
      e.lastNs = now;
      return true;
    }
    if (this._table.size >= this._maxMacs || from.learned >= this._maxPerPort) { this.counters.notLearned++; return true; }
    this._table.set(src, { port: from, lastNs: now, isStatic: false });
    from.learned++;
    return true;
  }

  private _forget(mac: number, e: MacEntry): void {
    this._table.delete(mac);
    if (!e.isStatic) e.port.learned--;
  }

  private _sweep(now: number): void {
    for (const [mac, e] of this._table) if (!e.isStatic && now - e.lastNs > this._ageingNs) this._forget(mac, e);
    this._nextSweepNs = now + this._ageingNs / 2;
  }

  /** @internal PortSlot.detach */
  _detach(slot: PortSlot): void {
    if (!slot.attached) return;
    slot.attached = false;
    this._ports = this._ports.filter((p) => p !== slot);
    for (const [mac, e] of this._table) if (e.port === slot) this._table.delete(mac);
    slot.learned = 0;
  }
}

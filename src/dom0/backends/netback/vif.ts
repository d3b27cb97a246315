/**
 * One virtual network interface: a frontend's tx and rx rings on one side, a port of the
 * xenbr0 bridge on the other (docs/network.md, "The bridge port seam").
 *
 * Transmit (guest -> bridge), one round per event: parse up to a round's worth of packets
 * (netif_tx.ts), map every data slot read-only in one GNTTABOP_map_grant_ref batch, hand
 * each frame to the bridge as a zero-copy view of the guest's own page (a frame in several
 * slots, or one whose checksum must be completed, is gathered into a scratch buffer
 * first), unmap the batch, answer every slot in ring order, notify once.
 *
 * Receive (bridge -> guest): deliver() copies the frame into a staging frame of our own
 * RAM (the one copy the bridge contract asks for) and schedules a flush, which takes one
 * rx request per frame and either
 *   - rx-copy: GNTTABOP_copy staging frame -> the request's grant (offset 0), or
 *   - rx-flip: GNTTABOP_transfer of the staging frame itself into the request's
 *     accept-transfer grant (the frame changes owner; we put a fresh frame behind our pfn),
 * then writes the responses and notifies once. Frames wait in staging while the frontend
 * has posted no buffers (req_event asks for an event when it does); when staging is full,
 * new frames are dropped and counted.
 *
 * Hostile frontends: bad packets get NETIF_RSP_ERROR (the ring goes on); a request chain
 * past req_prod, a producer index beyond the ring or an unreadable ring disconnects the
 * vif with the reason; bad rx grant refs get NETIF_RSP_ERROR responses.
 *
 * Invariants: no grant stays mapped after a tx round; every consumed request gets exactly
 * one response on the same ring generation; a staging frame is either free, queued, or in
 * the current flush; the bridge port lives from hotplug to destroy.
 */
import {
  NETIF_RSP_ERROR, SIZEOF_NETIF_RX_RESPONSE, SIZEOF_NETIF_TX_RESPONSE, NETRXF_data_validated,
} from '../../../abi/io/netif.ts';
import { GNTST_okay, GNTST_bad_page } from '../../../abi/grant_table.ts';
import { __RING_SIZE } from '../../../abi/io/ring.ts';
import { parseMac, type MacAddr } from '../../net/addr.ts';
import type { BridgePort, BridgePortHandle } from '../../net/bridge.ts';
import { completeL4Checksum } from '../../net/checksum.ts';
import { BackRing } from '../back_ring.ts';
import { DeviceChannel } from '../device_channel.ts';
import { CopyBatch, MapBatch, TransferBatch, UnmapBatch } from '../grant_ops.ts';
import { DeviceError, type BackendDeviceHandler, type XenbusDevice } from '../xenbus_backend.ts';
import { parseTxPacket, TxPacket, type TxSlotSource } from './netif_tx.ts';
import type { NetbackEnv } from './netback_env.ts';

const PAGE = 4096;
const TX_ENTRY = 12;
const RX_ENTRY = 8;

export class VifCounters {
  txPackets = 0;
  txBytes = 0;
  txErrors = 0;
  rxPackets = 0;
  rxBytes = 0;
  rxCopied = 0;
  rxFlipped = 0;
  /** Frames dropped on the way in: not connected, staging full, too big. */
  rxDropped = 0;
  rxErrors = 0;
  /** Protocol violations that disconnected the vif. */
  faults = 0;
}

export class Vif implements BackendDeviceHandler, BridgePort {
  readonly name: string;
  mac?: MacAddr;
  readonly counters = new VifCounters();
  /** Receive mode the frontend asked for at connect. */
  rxMode: 'copy' | 'flip' = 'copy';
  fault: string | null = null;
  /** Staging frames lost because no memory was left to refill them after a flip. */
  stagingLost = 0;
  private _port: BridgePortHandle | null = null;
  private _channel: DeviceChannel | null = null;
  private _tx: BackRing | null = null;
  private _rx: BackRing | null = null;
  private readonly _packets: TxPacket[];
  private readonly _txMap: MapBatch;
  private readonly _txUnmap: UnmapBatch;
  private readonly _txSlotBase: number;
  private readonly _scratch = new Uint8Array(65536);
  // Staging: frames of our own RAM for received frames.
  private readonly _stageBase: number;
  private readonly _stageViews: Uint8Array[] = [];
  private readonly _stageFree: Int32Array;
  private _nStageFree: number;
  /** Queued frames: staging page and length, FIFO ring. */
  private readonly _qPage: Int32Array;
  private readonly _qLen: Uint16Array;
  private _qHead = 0;
  private _qCount = 0;
  private readonly _rxCopy: CopyBatch;
  private readonly _rxFlip: TransferBatch;
  private readonly _rxIds = new Uint16Array(256);
  private readonly _rxGrefs = new Uint32Array(256);
  private _eventPending = false;
  private readonly _rxPages = new Int32Array(256);
  private readonly _rxLens = new Uint16Array(256);
  private readonly _rxReq = new Uint8Array(RX_ENTRY);
  private readonly _rxRsp = new Uint8Array(RX_ENTRY);
  private readonly _rxRspV = new DataView(this._rxRsp.buffer);
  private readonly _txRsp = new Uint8Array(SIZEOF_NETIF_TX_RESPONSE);
  private readonly _txRspV = new DataView(this._txRsp.buffer);
  private _rxScheduled = false;
  private _txBusy = false;
  private _destroyed = false;
  private readonly _repop: number[] = [];
  private readonly _txSource: TxSlotSource;

  /** Entry points from events and microtasks: a throw stops this vif only (made once: no closure per event). */
  private readonly _guardedEvent = (): void => {
    try {
      this._onEvent();
    } catch (e) {
      this.dev.fail(e);
    }
  };

  private readonly _guardedRx = (): void => {
    this._rxScheduled = false;
    try {
      this._flushRx();
    } catch (e) {
      this.dev.fail(e);
    }
  };

  constructor(private readonly _env: NetbackEnv, readonly dev: XenbusDevice) {
    this.name = `vif${dev.frontId}.${dev.devid}`;
    const round = _env.config.txRoundSlots;
    this._packets = Array.from({ length: round }, () => new TxPacket());
    this._txMap = new MapBatch(_env.xc, _env.pool, _env.acct, round);
    this._txUnmap = new UnmapBatch(_env.xc, _env.pool, _env.acct, round);
    this._txSlotBase = _env.pool.slots(round);
    const n = _env.config.stagingPages;
    this._stageBase = _env.pool.ram(n);
    for (let i = 0; i < n; i++) this._stageViews.push(this._stageView(i));
    this._stageFree = new Int32Array(n);
    for (let i = 0; i < n; i++) this._stageFree[i] = n - 1 - i;
    this._nStageFree = n;
    this._qPage = new Int32Array(n);
    this._qLen = new Uint16Array(n);
    this._rxCopy = new CopyBatch(_env.xc, _env.pool, _env.acct);
    this._rxFlip = new TransferBatch(_env.xc, _env.pool, _env.acct);
    this._txSource = {
      available: () => this._txAvail,
      take: (dst) => {
        this._txAvail--;
        return this._tx !== null && this._tx.take(dst);
      },
    };
  }

  private _txAvail = 0;

  private _stageView(i: number): Uint8Array {
    const v = this._env.xc.port.view((this._stageBase + i) * PAGE, PAGE, true);
    if (v === null) throw new Error(`netback: staging frame ${this._stageBase + i} has no view`);
    return v;
  }

  // ---- xenbus side -------------------------------------------------------------------------

  hotplug(): void {
    const macText = this.dev.readBack('mac');
    let mac: MacAddr;
    try {
      mac = parseMac(macText ?? '');
    } catch {
      throw new DeviceError(`bad mac ${JSON.stringify(macText)}`);
    }
    this.mac = mac;
    const bridge = this.dev.readBack('bridge') ?? 'xenbr0';
    if (bridge !== 'xenbr0') throw new DeviceError(`no bridge ${bridge}`);
    try {
      this._port = this._env.bridge.attach(this, { restrictSource: this.dev.readBack('restrict-source') !== '0' });
    } catch (e) {
      throw new DeviceError((e as Error).message); // SAFETY: Bridge.attach throws RangeError
    }
  }

  features(): Readonly<Record<string, string>> {
    return {
      'feature-sg': '1',
      'feature-gso-tcpv4': '0',
      'feature-rx-copy': '1',
      'feature-rx-flip': this._env.config.rxFlip ? '1' : '0',
      'feature-multicast-control': '0',
      'feature-split-event-channels': '0',
    };
  }

  connect(): Readonly<Record<string, string>> {
    const txRef = parseU32(this.dev.readFront('tx-ring-ref'), 'tx-ring-ref');
    const rxRef = parseU32(this.dev.readFront('rx-ring-ref'), 'rx-ring-ref');
    const evText = this.dev.readFront('event-channel');
    if (evText === undefined && this.dev.readFront('event-channel-tx') !== undefined) {
      throw new DeviceError('split event channels were not offered');
    }
    const port = parseU32(evText, 'event-channel');
    const copyText = this.dev.readFront('request-rx-copy');
    const wantCopy = copyText !== undefined && copyText.trim() !== '0';
    if (copyText !== undefined && !/^[01]$/.test(copyText.trim())) throw new DeviceError(`bad request-rx-copy ${JSON.stringify(copyText)}`);
    if (!wantCopy && !this._env.config.rxFlip) throw new DeviceError('the frontend asks for rx-flip, which is not offered');
    this.rxMode = wantCopy ? 'copy' : 'flip';
    const ch = DeviceChannel.open(this._env, this.dev.frontId, [txRef, rxRef], port, this._guardedEvent);
    this._channel = ch;
    this._tx = new BackRing(this._env.xc.port, ch.gpa, __RING_SIZE(PAGE, TX_ENTRY), TX_ENTRY);
    this._rx = new BackRing(this._env.xc.port, ch.gpa + PAGE, __RING_SIZE(PAGE, RX_ENTRY), RX_ENTRY);
    this.fault = null;
    queueMicrotask(this._guardedEvent);
    return {};
  }

  disconnect(): void {
    this._channel?.close();
    this._channel = null;
    this._tx = null;
    this._rx = null;
    // Queued frames are dropped: the rings they were for are gone.
    while (this._qCount > 0) this._dequeueDrop();
  }

  destroy(): void {
    if (this._destroyed) return;
    this._destroyed = true;
    this.disconnect();
    this._port?.detach();
    this._port = null;
    if (this.mac !== undefined) this._env.gateway?.detachGuest(this.mac);
    const pool = this._env.pool;
    this._txMap.dispose();
    this._txUnmap.dispose();
    this._rxCopy.dispose();
    this._rxFlip.dispose();
    pool.release(this._txSlotBase);
    pool.release(this._stageBase);
  }

  get connected(): boolean {
    return this._channel !== null;
  }

  // ---- events ------------------------------------------------------------------------------

  private _onEvent(): void {
    const tr = this._env.trace;
    // Traced per packet: the first packet found after this event carries it.
    this._eventPending = tr?.enabled === true;
    this._txRounds();
    this._flushRx();
  }

  private _fault(why: string): void {
    this.counters.faults++;
    this.fault = why;
    this.dev.failConnected(why);
  }

  // ---- transmit ----------------------------------------------------------------------------

  private _txRounds(): void {
    if (this._txBusy) return;
    this._txBusy = true;
    try {
      for (let guard = 0; guard < 64; guard++) {
        const ring = this._tx;
        if (ring === null) return;
        const n = ring.unconsumed();
        if (ring.overflow) {
          this._fault('tx request producer beyond the ring (or ring unreadable)');
          return;
        }
        if (n > 0) {
          if (!this._txRound(ring, n)) return;
          continue;
        }
        if (!ring.finalCheck()) {
          if (ring.overflow) this._fault('tx request producer beyond the ring');
          return;
        }
      }
    } finally {
      this._txBusy = false;
    }
  }

  /** One round over up to `avail` requests; false if the vif was disconnected. */
  private _txRound(ring: BackRing, avail: number): boolean {
    const env = this._env;
    const front = this.dev.frontId;
    const maxFrame = env.config.maxFrameLen;
    const mb = this._txMap;
    const tr = env.trace;
    // Parse packets while their data slots fit the map batch.
    mb.reset();
    this._txAvail = avail;
    let np = 0;
    while (this._txAvail > 0 && np < this._packets.length) {
      if (mb.capacity - mb.n < 19) break;
      const p = this._packets[np++]!;
      p.ringIdx = ring.reqCons;
      parseTxPacket(this._txSource, p, maxFrame);
      if (p.fatal !== null) {
        this._fault(p.fatal);
        return false;
      }
      if (p.error !== null) continue;
      for (let k = 0; k < p.nfrags; k++) mb.add(p.gref[k]!, front, (this._txSlotBase + mb.n) * PAGE, true);
    }
    const rc = mb.submit();
    // Every mapping of the round is unmapped below, whatever happens to the packets.
    const ub = this._txUnmap;
    ub.reset();
    for (let m = 0; m < mb.n; m++) if (rc === 0 && mb.status(m) === GNTST_okay) ub.add(mb.gpa(m), mb.handle(m));
    // Frames to the bridge.
    const port = env.xc.port;
    let m = 0;
    for (let i = 0; i < np; i++) {
      const p = this._packets[i]!;
      if (p.error !== null) {
        this.counters.txErrors++;
        continue;
      }
      let ok = rc === 0;
      const first = m;
      for (let k = 0; k < p.nfrags; k++, m++) if (rc !== 0 || mb.status(m) !== GNTST_okay) ok = false;
      if (!ok) {
        p.fail('a tx grant could not be mapped');
        this.counters.txErrors++;
        continue;
      }
      // Disconnected from inside the bridge meanwhile: the rest is not sent (nor answered).
      if (this._tx !== ring) continue;
      let frame: Uint8Array | null;
      if (p.nfrags === 1 && !p.csumBlank) {
        frame = port.view(mb.gpa(first) + p.offset[0]!, p.len[0]!);
      } else {
        frame = this._gather(p, first);
        if (frame !== null && p.csumBlank) completeL4Checksum(frame);
      }
      if (frame === null) {
        p.fail('tx page not readable');
        this.counters.txErrors++;
        continue;
      }
      this.counters.txPackets++;
      this.counters.txBytes += frame.length;
      if (tr?.enabled === true) this._traceTx(p, frame);
      this._port?.send(frame);
    }
    ub.submit();
    if (this._tx !== ring) return false;
    // Responses, in ring order.
    const rv = this._txRspV;
    for (let i = 0; i < np; i++) {
      const p = this._packets[i]!;
      for (let s = 0; s < p.slotCount; s++) {
        rv.setUint16(0, p.slotId[s]!, true);
        rv.setInt16(2, p.slotStatus[s]!, true);
        ring.put(this._txRsp, SIZEOF_NETIF_TX_RESPONSE);
      }
    }
    if (ring.push()) this._channel?.notify();
    return true;
  }

  /** The packet path up to the bridge: the event, the ring slot, netback's mapping. */
  private _traceTx(p: TxPacket, frame: Uint8Array): void {
    const tr = this._env.trace!; // SAFETY: called only with tracing on
    if (this._eventPending && this._channel !== null) {
      this._eventPending = false;
      tr.record('event', this.name, frame, `netfront d${this.dev.frontId} notified evtchn ${this._channel.localPort}`);
    }
    const slot = p.ringIdx & 255;
    tr.record('ring', this.name, frame, `tx slot ${slot} id ${p.slotId[0]} gref ${p.gref[0]} size ${p.total}${p.nfrags > 1 ? ` +${p.nfrags - 1} slots` : ''}`);
    tr.record('netback-tx', this.name, frame, `${p.nfrags} grant(s) mapped read-only, frame to xenbr0`);
  }

  /** Copy a packet's fragments (mapped from index `first` of the batch) into the scratch frame. */
  private _gather(p: TxPacket, first: number): Uint8Array | null {
    const port = this._env.xc.port;
    const mb = this._txMap;
    let at = 0;
    for (let k = 0; k < p.nfrags; k++) {
      const v = port.view(mb.gpa(first + k) + p.offset[k]!, p.len[k]!);
      if (v === null) return null;
      this._scratch.set(v, at);
      at += v.length;
    }
    return this._scratch.subarray(0, at);
  }

  // ---- receive -----------------------------------------------------------------------------

  /** A frame from the bridge (read-only view, valid during the call). */
  deliver(frame: Uint8Array): void {
    try {
      this._deliver(frame);
    } catch (e) {
      this.dev.fail(e);
    }
  }

  private _deliver(frame: Uint8Array): void {
    if (this._channel === null || frame.length > PAGE || this._nStageFree === 0) {
      this.counters.rxDropped++;
      return;
    }
    const page = this._stageFree[--this._nStageFree]!;
    const view = this._stageViews[page]!;
    view.set(frame);
    this._env.xc.port.written((this._stageBase + page) * PAGE, frame.length);
    const q = (this._qHead + this._qCount) % this._qPage.length;
    this._qPage[q] = page;
    this._qLen[q] = frame.length;
    this._qCount++;
    if (!this._rxScheduled) {
      this._rxScheduled = true;
      queueMicrotask(this._guardedRx);
    }
  }

  private _dequeueDrop(): void {
    const page = this._qPage[this._qHead]!;
    this._qHead = (this._qHead + 1) % this._qPage.length;
    this._qCount--;
    this._stageFree[this._nStageFree++] = page;
    this.counters.rxDropped++;
  }

  /** Move queued frames into the frontend's posted buffers. */
  private _flushRx(): void {
    for (let guard = 0; guard < 64 && this._qCount > 0; guard++) {
      const ring = this._rx;
      if (ring === null) return;
      let n = Math.min(this._qCount, ring.unconsumed(), this._rxCopy.capacity);
      if (ring.overflow) {
        this._fault('rx request producer beyond the ring (or ring unreadable)');
        return;
      }
      if (n === 0) {
        // No buffers: ask for an event when the next one is posted, then look again.
        ring.requestEventAt((ring.reqCons + 1) | 0);
        n = Math.min(this._qCount, ring.unconsumed(), this._rxCopy.capacity);
        if (n === 0) return;
      }
      this._rxBatch(ring, n);
    }
  }

  private _rxBatch(ring: BackRing, n: number): void {
    const env = this._env;
    const front = this.dev.frontId;
    const flip = this.rxMode === 'flip';
    const batch = flip ? this._rxFlip : this._rxCopy;
    batch.reset();
    const req = this._rxReq;
    const rv = new DataView(req.buffer);
    for (let i = 0; i < n; i++) {
      if (!ring.take(req)) break;
      const id = rv.getUint16(0, true);
      const gref = rv.getUint32(4, true);
      const page = this._qPage[this._qHead]!;
      const len = this._qLen[this._qHead]!;
      this._qHead = (this._qHead + 1) % this._qPage.length;
      this._qCount--;
      this._rxIds[i] = id;
      this._rxGrefs[i] = gref;
      this._rxPages[i] = page;
      this._rxLens[i] = len;
      if (flip) this._rxFlip.add(this._stageBase + page, front, gref);
      else this._rxCopy.toGrant(this._stageBase + page, 0, front, gref, 0, len);
    }
    const count = batch.n;
    const rc = batch.submit();
    const tr = env.trace;
    const rsp = this._rxRspV;
    const repop = this._repop;
    repop.length = 0;
    for (let i = 0; i < count; i++) {
      const st = flip ? this._rxFlip.status(i) : this._rxCopy.status(i);
      const ok = rc === 0 && st === GNTST_okay;
      const page = this._rxPages[i]!;
      const len = this._rxLens[i]!;
      // A flipped frame is gone whatever the outcome, except for a page Xen refused.
      if (flip && !(rc !== 0 || st === GNTST_bad_page)) repop.push(this._stageBase + page);
      rsp.setUint16(0, this._rxIds[i]!, true);
      rsp.setUint16(2, 0, true);
      rsp.setUint16(4, this._env.config.rxDataValidated ? NETRXF_data_validated : 0, true);
      rsp.setInt16(6, ok ? len : NETIF_RSP_ERROR, true);
      ring.put(this._rxRsp, SIZEOF_NETIF_RX_RESPONSE);
      if (ok) {
        this.counters.rxPackets++;
        this.counters.rxBytes += len;
        if (flip) this.counters.rxFlipped++;
        else this.counters.rxCopied++;
        if (tr?.enabled === true) {
          const f = this._stageViews[page]!.subarray(0, len);
          const slot = (ring.rspProdPvt - 1) & 255;
          tr.record('netback-rx', this.name, f, flip ? `GNTTABOP_transfer of frame ${this._stageBase + page} into gref ${this._rxGrefs[i]}`
            : `GNTTABOP_copy into gref ${this._rxGrefs[i]}`);
          tr.record('ring', this.name, f, `rx slot ${slot} id ${this._rxIds[i]} status ${len}${this._channel !== null ? `, notify evtchn ${this._channel.localPort}` : ''}`);
        }
      } else this.counters.rxErrors++;
    }
    let lost: number[] = [];
    if (repop.length > 0) {
      env.pool.gaveAway(repop.length);
      lost = env.pool.repopulate(repop);
      // The old views name frames that now belong to the guest: never reuse them.
      for (const gfn of repop) if (!lost.includes(gfn)) this._stageViews[gfn - this._stageBase] = this._stageView(gfn - this._stageBase);
      this.stagingLost += lost.length;
    }
    for (let i = 0; i < count; i++) {
      const page = this._rxPages[i]!;
      if (lost.length === 0 || !lost.includes(this._stageBase + page)) this._stageFree[this._nStageFree++] = page;
    }
    if (ring.push()) this._channel?.notify();
  }
}

function parseU32(v: string | undefined, key: string): number {
  if (v === undefined || !/^[0-9]{1,10}$/.test(v.trim())) throw new DeviceError(`bad or missing ${key}: ${JSON.stringify(v)}`);
  const n = Number(v.trim());
  if (n > 0xffffffff) throw new DeviceError(`${key} ${n} out of range`);
  return n;
}

/**
 * One virtual block device: a host image behind a frontend's blkif ring. The xenbus side
 * (hotplug, features, connect, disconnect) and the request engine.
 *
 * Request flow, one round per event (or completion):
 *   1. consume requests while a request slot and enough arena pages are free (bounded
 *      queue: the ring itself holds the rest); decode and check each; bad ones are
 *      answered at once (BLKIF_RSP_ERROR / EOPNOTSUPP);
 *   2. indirect requests: their descriptor pages come in through one batch, then their
 *      segments are checked;
 *   3. write data comes in through one batch for the whole round; reads and writes are
 *      started on the disk (async);
 *   4. completions are collected; one flush (a microtask later) sends read data out
 *      through one batch, writes the responses, notifies once, and runs another round.
 * FLUSH_DISKCACHE and WRITE_BARRIER drain: nothing after them is consumed until every
 * request before them completed; then fdatasync (barrier: fdatasync, the write,
 * fdatasync) and the response. A WRITE is answered when pwrite returned (durable against
 * the death of the host process).
 *
 * Hostile frontends: a producer index beyond the ring (overflow) or an unreadable ring
 * disconnects the device with an error; bad grant refs, bad segments, ranges past the
 * device, unknown operations get error responses; duplicate ids are answered twice (the
 * id is the frontend's cookie). The image is only touched inside [0, sectors).
 *
 * Invariants: responses go only to the channel generation the request came from (after
 * a disconnect, completions just free their resources); a request slot and its arena
 * pages are freed exactly once; inflight counts slots between consume and response.
 */
import {
  BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER,
  VDISK_CDROM, VDISK_READONLY, BLKIF_SEGS_PER_INDIRECT_FRAME,
} from '../../../abi/io/blkif.ts';
import { __RING_SIZE } from '../../../abi/io/ring.ts';
import { FileDisk, SECTOR, type BlockDriver } from '../../drivers/file_disk.ts';
import { BackRing } from '../back_ring.ts';
import { DeviceChannel, type ChannelEnv } from '../device_channel.ts';
import { DeviceError, type BackendDeviceHandler, type XenbusDevice } from '../xenbus_backend.ts';
import {
  BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkRequest, checkRequest, checkSegments, decodeIndirectSegments, decodeRequest,
  encodeResponse, layoutFor, type BlkDeviceLimits, type BlkLayout,
} from './blkif_request.ts';
import { SegmentList, type SegmentIo } from './segment_io.ts';

const PAGE = 4096;

export interface VbdConfig {
  /** Largest ring: 2^order pages (max-ring-page-order). */
  readonly maxRingPageOrder: number;
  /** feature-max-indirect-segments (0 = no indirect). */
  readonly maxIndirectSegments: number;
  /** Staging pages per device (bounds the data in flight). */
  readonly arenaPages: number;
  readonly segmentIo: 'copy' | 'map';
}

export interface VbdEnv extends ChannelEnv {
  readonly config: VbdConfig;
  makeSegmentIo(pages: number): SegmentIo;
  /** Called when file I/O starts or ends (the owner tracks "busy"). */
  ioChanged(delta: number): void;
  /** Opens images (the hotplug step); FileDisk.open by default. */
  openDisk(path: string, readonly: boolean): Promise<BlockDriver>;
}

/** Per in-flight request. */
class Slot {
  readonly req: BlkRequest;
  /** Arena pages held (data and indirect descriptors), in segment order. */
  readonly pages: Int32Array;
  npages = 0;
  /** Index range of its segments in the round's SegmentList. */
  segStart = 0;
  segEnd = 0;
  status = BLKIF_RSP_OKAY;
  gen = 0;
  busy = false;
  /** Its data segments went through SegmentIo.prepare (finish must release them). */
  prepared = false;
  /** Counted as host I/O in flight until its completion is flushed. */
  io = false;

  constructor(maxSegs: number, readonly epoch: number) {
    this.req = new BlkRequest(maxSegs);
    // Data pages, then up to BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST descriptor pages.
    this.pages = new Int32Array(maxSegs + 8);
  }
}

export class Vbd implements BackendDeviceHandler {
  disk: BlockDriver | null = null;
  /** Requests answered, by outcome (for tests and `xl block-list`-like views). */
  readonly stats = { requests: 0, errors: 0, reads: 0, writes: 0, flushes: 0, barriers: 0, discards: 0, overflows: 0 };
  private _channel: DeviceChannel | null = null;
  private _ring: BackRing | null = null;
  private _layout: BlkLayout = layoutFor(undefined)!; // SAFETY: undefined is the native ABI
  private _gen = 0;
  private readonly _io: SegmentIo;
  private readonly _freePages: Int32Array;
  private _nFree: number;
  private _slots: Slot[] = [];
  private _freeSlots: Slot[] = [];
  private _inflight = 0;
  private _drain: Slot | null = null;
  private _draining = false;
  private readonly _reqBuf: Uint8Array;
  private readonly _reqView: DataView;
  private readonly _rspBuf = new Uint8Array(16);
  private readonly _rspView = new DataView(this._rspBuf.buffer);
  private readonly _segsA: SegmentList;
  private readonly _segsB: SegmentList;
  private readonly _round: Slot[] = [];
  private readonly _done: Slot[] = [];
  private readonly _ioDone: Slot[] = [];
  private _flushQueued = false;
  private _processing = false;
  /** A request waits on the ring for staging pages. */
  private _stalled = false;
  /** Bumped when the slot array is replaced (a ring of another size). */
  private _epoch = 0;
  private _limits: BlkDeviceLimits | null = null;
  private _destroyed = false;
  /** Set when the ring broke the protocol; the device is then closed. */
  private _fault: string | null = null;

  /** Entry points from events and microtasks: a throw stops this device only (made once: no closure per event). */
  private readonly _guardedKick = (): void => {
    try {
      this._kick();
    } catch (e) {
      this.dev.fail(e);
    }
  };

  private readonly _guardedFlush = (): void => {
    try {
      this._flushCompletions();
    } catch (e) {
      this.dev.fail(e);
    }
  };

  constructor(private readonly _env: VbdEnv, readonly dev: XenbusDevice) {
    const c = _env.config;
    this._io = _env.makeSegmentIo(c.arenaPages);
    this._freePages = new Int32Array(c.arenaPages);
    for (let i = 0; i < c.arenaPages; i++) this._freePages[i] = c.arenaPages - 1 - i;
    this._nFree = c.arenaPages;
    this._reqBuf = new Uint8Array(128);
    this._reqView = new DataView(this._reqBuf.buffer);
    this._segsA = new SegmentList(c.arenaPages);
    this._segsB = new SegmentList(c.arenaPages);
  }

  // ---- xenbus side -------------------------------------------------------------------------

  async hotplug(): Promise<void> {
    const type = this.dev.readBack('type') ?? 'file';
    if (type !== 'file' && type !== 'phy' && type !== 'qdisk') throw new DeviceError(`unsupported backend type ${type}`);
    const params = this.dev.readBack('params');
    if (params === undefined || params === '') throw new DeviceError('no params (image path)');
    // xl writes "format:path" for some types; a raw path otherwise.
    const path = /^(raw|aio|file):/.test(params) ? params.slice(params.indexOf(':') + 1) : params;
    const mode = this.dev.readBack('mode') ?? 'w';
    if (mode !== 'r' && mode !== 'w' && mode !== 'rw') throw new DeviceError(`bad mode ${mode}`);
    let disk: BlockDriver;
    try {
      disk = await this._env.openDisk(path, mode === 'r');
    } catch (e) {
      throw new DeviceError((e as Error).message, 2); // SAFETY: openDisk rejects with Errors
    }
    if (this._destroyed) {
      void disk.close();
      throw new DeviceError('device removed during hotplug');
    }
    this.disk = disk;
  }

  features(): Readonly<Record<string, string>> {
    const c = this._env.config;
    const f: Record<string, string> = {
      'feature-flush-cache': '1',
      'feature-barrier': '1',
      'feature-persistent': '0',
      'max-ring-page-order': String(c.maxRingPageOrder),
    };
    if (this.disk !== null && !this.disk.readonly) {
      f['feature-discard'] = '1';
      f['discard-granularity'] = String(SECTOR);
      f['discard-alignment'] = '0';
      f['discard-secure'] = '1';
    }
    if (c.maxIndirectSegments > 0) f['feature-max-indirect-segments'] = String(c.maxIndirectSegments);
    return f;
  }

  connect(): Readonly<Record<string, string>> {
    const disk = this.disk;
    if (disk === null) throw new DeviceError('no disk');
    const protocol = this.dev.readFront('protocol');
    const L = layoutFor(protocol);
    if (L === undefined) throw new DeviceError(`unknown protocol ${JSON.stringify(protocol)}`);
    const refs = this._ringRefs();
    const port = parseU32(this.dev.readFront('event-channel'), 'event-channel');
    const bytes = refs.length * PAGE;
    const nrEnts = __RING_SIZE(bytes, L.entrySize);
    this._layout = L;
    this._gen++;
    const channel = DeviceChannel.open(this._env, this.dev.frontId, refs, port, this._guardedKick);
    this._channel = channel;
    this._ring = new BackRing(this._env.xc.port, channel.gpa, nrEnts, L.entrySize);
    this._fault = null;
    const c = this._env.config;
    this._limits = {
      sectors: disk.sectors, readonly: disk.readonly, flush: true, barrier: true, discard: !disk.readonly,
      maxIndirectSegments: Math.min(c.maxIndirectSegments, c.arenaPages),
    };
    const maxSegs = Math.max(11, this._limits.maxIndirectSegments);
    if (this._slots.length !== nrEnts || this._slots[0]?.req.maxSegs !== maxSegs) {
      const epoch = ++this._epoch;
      this._slots = Array.from({ length: nrEnts }, () => new Slot(maxSegs, epoch));
    }
    this._stalled = false;
    this._freeSlots = this._slots.filter((s) => !s.busy);
    this._draining = false;
    this._drain = null;
    const devtype = this.dev.readBack('device-type');
    const info = (disk.readonly ? VDISK_READONLY : 0) | (devtype === 'cdrom' ? VDISK_CDROM : 0);
    // Requests may already be waiting (the frontend queued before we connected).
    queueMicrotask(this._guardedKick);
    return {
      sectors: String(disk.sectors), info: String(info), 'sector-size': String(SECTOR),
      'physical-sector-size': String(SECTOR),
    };
  }

  /** ring-ref, or ring-page-order + ring-ref0..N-1 (a single page may use either form). */
  private _ringRefs(): number[] {
    const orderText = this.dev.readFront('ring-page-order') ?? this.dev.readFront('num-ring-pages');
    if (orderText === undefined) return [parseU32(this.dev.readFront('ring-ref'), 'ring-ref')];
    let order = parseU32(orderText, 'ring-page-order');
    if (this.dev.readFront('ring-page-order') === undefined) {
      // num-ring-pages (deprecated) counts pages, a power of two.
      if (order === 0 || (order & (order - 1)) !== 0) throw new DeviceError(`bad num-ring-pages ${order}`);
      order = Math.log2(order);
    }
    if (order > this._env.config.maxRingPageOrder) throw new DeviceError(`ring-page-order ${order} above ${this._env.config.maxRingPageOrder}`);
    const refs: number[] = [];
    for (let i = 0; i < 1 << order; i++) refs.push(parseU32(this.dev.readFront(`ring-ref${i}`), `ring-ref${i}`));
    return refs;
  }

  disconnect(): void {
    this._gen++;
    this._channel?.close();
    this._channel = null;
    this._ring = null;
    this._draining = false;
    this._drain = null;
    // In-flight requests keep their slots until their I/O completes (gen mismatch: no reply).
  }

  destroy(): void {
    this._destroyed = true;
    this.disconnect();
    const disk = this.disk;
    this.disk = null;
    if (disk !== null) {
      const io = this._io;
      void disk.close().then(() => io.dispose());
    } else this._io.dispose();
  }

  get inflight(): number {
    return this._inflight;
  }

  get fault(): string | null {
    return this._fault;
  }

  // ---- request engine ------------------------------------------------------------------------

  private _kick(): void {
    if (this._processing) return;
    this._processing = true;
    try {
      this._process();
    } finally {
      this._processing = false;
    }
  }

  private _process(): void {
    for (let guard = 0; guard < 64; guard++) {
      const ring = this._ring;
      if (ring === null || this._channel === null) return;
      this._consume(ring);
      if (ring.overflow) {
        this._protocolFault('request producer index beyond the ring (or ring unreadable)');
        return;
      }
      this._flushResponses();
      if (this._draining || this._stalled || this._freeSlots.length === 0) return;
      if (!ring.finalCheck()) {
        if (ring.overflow) this._protocolFault('request producer index beyond the ring');
        return;
      }
    }
  }

  private _protocolFault(why: string): void {
    this.stats.overflows++;
    this._fault = why;
    // Stop serving this ring: the xenbus side moves to Closing with the reason.
    this.dev.failConnected(why);
  }

  /** Steps 1-3 of a round. */
  private _consume(ring: BackRing): void {
    const limits = this._limits!; // SAFETY: set by connect
    const L = this._layout;
    const round = this._round;
    round.length = 0;
    let avail = ring.unconsumed();
    while (avail > 0 && !this._draining && !this._stalled && this._freeSlots.length > 0) {
      const slot = this._freeSlots[this._freeSlots.length - 1]!;
      if (!ring.take(this._reqBuf)) return;
      avail--;
      const r = slot.req;
      decodeRequest(this._reqView, L, r);
      const status = checkRequest(r, limits);
      const op = r.op;
      if (status === BLKIF_RSP_OKAY && (op === BLKIF_OP_READ || op === BLKIF_OP_WRITE || op === BLKIF_OP_INDIRECT)) {
        const need = op === BLKIF_OP_INDIRECT ? r.nsegs + r.nIndirect : r.nsegs;
        if (need <= this._env.config.arenaPages && need > this._nFree) {
          // Not enough staging room now: leave it on the ring until I/O completes.
          ring.reqCons = (ring.reqCons - 1) | 0;
          this._stalled = true;
          break;
        }
      }
      this._freeSlots.pop();
      slot.busy = true;
      slot.gen = this._gen;
      slot.npages = 0;
      slot.status = BLKIF_RSP_OKAY;
      this._inflight++;
      this.stats.requests++;
      if (status !== BLKIF_RSP_OKAY) {
        this._complete(slot, status);
        continue;
      }
      if (op === BLKIF_OP_FLUSH_DISKCACHE || op === BLKIF_OP_WRITE_BARRIER) {
        // Drain: nothing after it is consumed until it completed.
        this._draining = true;
        this._drain = slot;
        break;
      }
      if (op === BLKIF_OP_DISCARD) {
        this._startDiscard(slot);
        continue;
      }
      const need = op === BLKIF_OP_INDIRECT ? r.nsegs + r.nIndirect : r.nsegs;
      if (!this._takePages(slot, need)) {
        // Larger than the whole arena: it can never run.
        this._complete(slot, BLKIF_RSP_ERROR);
        continue;
      }
      round.push(slot);
    }
    if (round.length > 0) this._startRound(round);
    if (this._draining && this._drain !== null && this._inflight === 1) this._runDrain();
  }

  private _takePages(slot: Slot, n: number): boolean {
    if (n > this._nFree) return false;
    for (let i = 0; i < n; i++) slot.pages[i] = this._freePages[--this._nFree]!;
    slot.npages = n;
    return true;
  }

  private _startRound(round: Slot[]): void {
    const front = this.dev.frontId;
    const limits = this._limits!; // SAFETY: set by connect
    const io = this._io;
    // Step 2: indirect descriptor pages, in and released at once.
    const desc = this._segsA;
    desc.reset();
    for (const s of round) {
      const r = s.req;
      if (r.op !== BLKIF_OP_INDIRECT) continue;
      s.segStart = desc.n;
      for (let k = 0; k < r.nIndirect; k++) {
        const bytes = Math.min(PAGE, (r.nsegs - k * BLKIF_SEGS_PER_INDIRECT_FRAME) * 8);
        desc.add(front, r.indirectGrefs[k]!, s.pages[r.nsegs + k]!, 0, bytes, false);
      }
      s.segEnd = desc.n;
    }
    if (desc.n > 0) {
      io.prepare(desc, 'in');
      for (const s of round) {
        const r = s.req;
        if (r.op !== BLKIF_OP_INDIRECT) continue;
        let ok = true;
        for (let k = s.segStart; k < s.segEnd; k++) if (desc.ok[k] === 0) ok = false;
        if (ok) {
          for (let k = 0; k < r.nIndirect; k++) {
            const p = s.pages[r.nsegs + k]!;
            INDIRECT_PAGE.set(io.view(p, 0, PAGE), k * PAGE);
          }
          decodeIndirectSegments(INDIRECT_VIEW, r);
        }
        if (!ok || checkSegments(r, limits) !== BLKIF_RSP_OKAY) s.status = BLKIF_RSP_ERROR;
      }
      io.finish(desc, 'in');
    }
    // Step 3: the data of every request of the round, both directions.
    const ins = this._segsA, outs = this._segsB;
    ins.reset();
    outs.reset();
    for (const s of round) {
      if (s.status !== BLKIF_RSP_OKAY) continue;
      addDataSegments(isWrite(s.req) ? ins : outs, front, s, true);
      s.prepared = true;
    }
    if (ins.n > 0) io.prepare(ins, 'in');
    if (outs.n > 0) io.prepare(outs, 'out');
    for (const s of round) {
      if (s.prepared) {
        const list = isWrite(s.req) ? ins : outs;
        for (let k = s.segStart; k < s.segEnd; k++) if (list.ok[k] === 0) s.status = BLKIF_RSP_ERROR;
      }
      if (s.status !== BLKIF_RSP_OKAY) this._complete(s, s.status);
      else this._startIo(s);
    }
  }

  private _startIo(s: Slot): void {
    const disk = this.disk;
    if (disk === null) {
      this._complete(s, BLKIF_RSP_ERROR);
      return;
    }
    const r = s.req;
    const bufs = this._views(s);
    const pos = r.sector * SECTOR;
    this._busy(s);
    const cb = (err: Error | null): void => {
      this._complete(s, err === null ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
    };
    if (isWrite(r)) {
      this.stats.writes++;
      disk.writev(bufs, pos, cb);
    } else {
      this.stats.reads++;
      disk.readv(bufs, pos, cb);
    }
  }

  /** Views of a request's data segments, in disk order. */
  private _views(s: Slot): Uint8Array[] {
    const r = s.req;
    const out: Uint8Array[] = [];
    for (let i = 0; i < r.nsegs; i++) {
      const off = r.first[i]! * SECTOR;
      out.push(this._io.view(s.pages[i]!, off, (r.last[i]! + 1) * SECTOR - off));
    }
    return out;
  }

  private _startDiscard(s: Slot): void {
    const disk = this.disk;
    const r = s.req;
    if (disk === null) {
      this._complete(s, BLKIF_RSP_ERROR);
      return;
    }
    this.stats.discards++;
    const n = r.nrSectorsLo + r.nrSectorsHi * 0x100000000;
    this._busy(s);
    disk.discard(r.sector * SECTOR, n * SECTOR, (err) => {
      this._complete(s, err === null ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
    });
  }

  /** FLUSH / BARRIER once everything before it is done. */
  private _runDrain(): void {
    const s = this._drain;
    const disk = this.disk;
    if (s === null) return;
    this._drain = null;
    if (disk === null) {
      this._complete(s, BLKIF_RSP_ERROR);
      return;
    }
    const r = s.req;
    if (r.op === BLKIF_OP_WRITE_BARRIER) this.stats.barriers++;
    else this.stats.flushes++;
    this._busy(s);
    const finish = (err: Error | null): void => {
      this._complete(s, err === null ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
    };
    disk.flush((err) => this.dev.guard(() => {
      if (err !== null || r.nsegs === 0) {
        finish(err);
        return;
      }
      // Data of a barrier (or a flush with data): in, write, flush again. Everything
      // before it completed, so its (at most 11) pages are free.
      if (s.gen !== this._gen || !this._takePages(s, r.nsegs)) {
        finish(new Error('disconnected'));
        return;
      }
      const segs = this._segsA;
      segs.reset();
      addDataSegments(segs, this.dev.frontId, s, true);
      s.prepared = true;
      this._io.prepare(segs, 'in');
      for (let k = s.segStart; k < s.segEnd; k++) {
        if (segs.ok[k] === 0) {
          finish(new Error('bad grant'));
          return;
        }
      }
      disk.writev(this._views(s), r.sector * SECTOR, (werr) => {
        if (werr !== null) finish(werr);
        else disk.flush(finish);
      });
    }));
  }

  /**
   * The slot has host I/O in flight: the backend is busy (virtual time must wait) from
   * here until its response was published and the frontend notified — not merely until the
   * file operation returned, or a run loop could let the idle machine jump ahead in between.
   */
  private _busy(s: Slot): void {
    if (s.io) return;
    s.io = true;
    this._env.ioChanged(1);
  }

  /** A request is finished (status known; read data still in its slots). */
  private _complete(s: Slot, status: number): void {
    s.status = status;
    this._done.push(s);
    if (!this._flushQueued) {
      this._flushQueued = true;
      // A microtask: the response is out before a run loop looks at busy() again.
      queueMicrotask(this._guardedFlush);
    }
  }

  /** Step 4: data out (and slots released), responses, one notification, next round. */
  private _flushCompletions(): void {
    this._flushQueued = false;
    const done = this._done;
    if (done.length === 0) return;
    const ring = this._ring;
    const front = this.dev.frontId;
    const ins = this._segsA, outs = this._segsB;
    ins.reset();
    outs.reset();
    for (const s of done) {
      if (!s.prepared) continue;
      const live = s.gen === this._gen && ring !== null && s.status === BLKIF_RSP_OKAY;
      addDataSegments(isWrite(s.req) ? ins : outs, front, s, live);
    }
    if (outs.n > 0) this._io.finish(outs, 'out');
    if (ins.n > 0) this._io.finish(ins, 'in');
    const L = this._layout;
    for (const s of done) {
      if (s.prepared && !isWrite(s.req) && s.status === BLKIF_RSP_OKAY) {
        for (let k = s.segStart; k < s.segEnd; k++) if (outs.ok[k] === 0) s.status = BLKIF_RSP_ERROR;
      }
      s.prepared = false;
      if (s.gen === this._gen && ring !== null) {
        const r = s.req;
        if (s.status !== BLKIF_RSP_OKAY) this.stats.errors++;
        const len = encodeResponse(this._rspView, L, r.idLo, r.idHi, r.op, s.status);
        ring.put(this._rspBuf, len);
      }
      if (s.io) {
        s.io = false;
        this._ioDone.push(s);
      }
      this._release(s, true);
    }
    done.length = 0;
    this._stalled = false;
    this._flushResponses();
    for (let i = 0; i < this._ioDone.length; i++) this._env.ioChanged(-1);
    this._ioDone.length = 0;
    if (this._draining && this._drain !== null && this._inflight === 1) this._runDrain();
    else if (this._draining && this._drain === null && this._inflight === 0) this._draining = false;
    this._kick();
  }

  private _release(s: Slot, counted: boolean): void {
    for (let i = 0; i < s.npages; i++) this._freePages[this._nFree++] = s.pages[i]!;
    s.npages = 0;
    s.busy = false;
    if (counted) this._inflight--;
    // Slots of a replaced array (a ring of another size) are dropped.
    if (s.epoch === this._epoch) this._freeSlots.push(s);
  }

  private _flushResponses(): void {
    const ring = this._ring;
    if (ring === null || this._channel === null) return;
    if (ring.push()) this._channel.notify();
  }
}

function isWrite(r: BlkRequest): boolean {
  return r.ioOp === BLKIF_OP_WRITE || r.op === BLKIF_OP_WRITE_BARRIER || r.op === BLKIF_OP_FLUSH_DISKCACHE;
}

function addDataSegments(segs: SegmentList, front: number, s: Slot, live: boolean): void {
  const r = s.req;
  s.segStart = segs.n;
  for (let i = 0; i < r.nsegs; i++) {
    const off = r.first[i]! * SECTOR;
    segs.add(front, r.gref[i]!, s.pages[i]!, off, (r.last[i]! + 1) * SECTOR - off, live);
  }
  s.segEnd = segs.n;
}

/** Indirect descriptor pages gathered in order (a request has at most 8). */
const INDIRECT_PAGE = new Uint8Array(8 * PAGE);
const INDIRECT_VIEW = new DataView(INDIRECT_PAGE.buffer);

function parseU32(v: string | undefined, key: string): number {
  if (v === undefined || !/^[0-9]{1,10}$/.test(v.trim())) throw new DeviceError(`bad or missing ${key}: ${JSON.stringify(v)}`);
  const n = Number(v.trim());
  if (n > 0xffffffff) throw new DeviceError(`${key} ${n} out of range`);
  return n;
}

export { FileDisk };

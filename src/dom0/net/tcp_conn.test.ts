import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../hw/clock.ts';
import { SeededRng, seedFromEnv } from '../../../tests/net/seeded_rng.ts';
import { asIpv4 } from './addr.ts';
import { DEFAULT_TCP_CONFIG, TcpConn, TcpState, type TcpCloseReason, type TcpConfig, type TcpEvents, type TcpOutput } from './tcp_conn.ts';
import { TcpError, TcpSegment, TH_ACK, TH_RST, TH_SYN, tcpOptionsLen, writeTcpHeader } from './tcp_wire.ts';
import { TimerQueue } from './timers.ts';

const IP_A = asIpv4(0x0a00020f);
const IP_B = asIpv4(0x0a000202);

interface LinkOpts { sync?: boolean; loss?: number; dup?: number; reorder?: number; latencyNs?: number; seed?: number; drop?: (seg: Uint8Array, fromA: boolean) => boolean }

/** Two TcpConns over a simulated wire on virtual time, with seeded loss/duplication/reordering. */
class Pair {
  readonly clock = new VirtualClock();
  readonly timers = new TimerQueue();
  readonly rng: SeededRng;
  readonly wire: { at: number; toA: boolean; bytes: Uint8Array }[] = [];
  readonly a: TcpConn;
  readonly b: TcpConn;
  readonly got = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  readonly closed: { a: TcpCloseReason | null; b: TcpCloseReason | null } = { a: null, b: null };
  readonly fin = { a: false, b: false };
  holdA = false;
  holdB = false;
  segments = 0;
  private readonly _seg = new TcpSegment();

  constructor(readonly opts: LinkOpts = {}, cfgA: Partial<TcpConfig> = {}, cfgB: Partial<TcpConfig> = {}) {
    this.rng = new SeededRng(opts.seed ?? 1);
    const now = (): number => this.clock.nowNs();
    this.a = new TcpConn(this._out(true), this._ev('a'), this.timers, now, { ...DEFAULT_TCP_CONFIG, ...cfgA });
    this.b = new TcpConn(this._out(false), this._ev('b'), this.timers, now, { ...DEFAULT_TCP_CONFIG, ...cfgB });
  }

  private _out(fromA: boolean): TcpOutput {
    return {
      emit: (c, flags, seq, ack, win, mss, ws, dataSeq, len) => {
        this.segments++;
        const hl = 20 + tcpOptionsLen(mss, ws);
        const buf = new Uint8Array(hl + len);
        if (len) c.copyPayload(dataSeq, buf, hl, len);
        writeTcpHeader(buf, 0, fromA ? IP_A : IP_B, fromA ? IP_B : IP_A, fromA ? 1000 : 80, fromA ? 80 : 1000, seq, ack, flags, win, mss, ws, len);
        const o = this.opts;
        if (o.drop?.(buf, fromA)) return;
        if (o.sync) { this.inject(!fromA, buf); return; } // the peer answers inside our emit
        if (this.rng.next() < (o.loss ?? 0)) return;
        const lat = o.latencyNs ?? 1e6;
        const jitter = this.rng.next() < (o.reorder ?? 0) ? this.rng.int(3e6) : 0;
        this._enqueue({ at: this.clock.nowNs() + lat + jitter, toA: !fromA, bytes: buf });
        if (this.rng.next() < (o.dup ?? 0)) this._enqueue({ at: this.clock.nowNs() + lat + this.rng.int(2e6), toA: !fromA, bytes: buf });
      },
    };
  }

  private _enqueue(p: { at: number; toA: boolean; bytes: Uint8Array }): void {
    const w = this.wire;
    let lo = 0, hi = w.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (w[m].at <= p.at) lo = m + 1; else hi = m; }
    w.splice(lo, 0, p);
  }

  gotBytes(side: 'a' | 'b'): number { return this.got[side].reduce((s, x) => s + x.length, 0); }

  private _ev(side: 'a' | 'b'): TcpEvents {
    return {
      onEstablished: () => {},
      onData: (c, d) => { this.got[side].push(d.slice()); if (!(side === 'a' ? this.holdA : this.holdB)) c.release(d.length); },
      onPeerFin: () => { this.fin[side] = true; },
      onSendSpace: () => {},
      onClosed: (_c, r) => { this.closed[side] = r; },
    };
  }

  /** Deliver raw segment bytes to a side (for hostile tests). */
  inject(toA: boolean, bytes: Uint8Array): void {
    const err = this._seg.parse(bytes, 0, bytes.length, toA ? IP_B : IP_A, toA ? IP_A : IP_B);
    if (err === TcpError.Ok) (toA ? this.a : this.b).input(this._seg, bytes);
  }

  /** Run until idle (no wire traffic, no timers) or the time limit. */
  run(limitNs = this.clock.nowNs() + 600e9, until?: () => boolean): void {
    for (let steps = 0; steps < 5_000_000; steps++) {
      if (until?.()) return;
      const nextWire = this.wire.length ? this.wire[0].at : Infinity;
      const next = Math.min(nextWire, this.timers.nextAt);
      if (next === Infinity || next > limitNs) {
        if (next !== Infinity) this.clock.advanceTo(limitNs);
        return;
      }
      this.clock.advanceTo(next);
      if (nextWire <= this.timers.nextAt) {
        const p = this.wire.shift()!;
        this.inject(p.toA, p.bytes);
      } else {
        this.timers.run(this.clock.nowNs());
      }
    }
    throw new Error('Pair.run: step limit');
  }

  connect(): void {
    // B is the passive side: it sees A's SYN, then accepts.
    this.opts.drop ??= undefined;
    const origB = this.b;
    const firstSyn = (bytes: Uint8Array): boolean => {
      const s = new TcpSegment();
      s.parse(bytes, 0, bytes.length, IP_A, IP_B);
      return (s.flags & (TH_SYN | TH_ACK)) === TH_SYN && origB.state === TcpState.Closed;
    };
    const wrapped = this.inject.bind(this);
    this.inject = (toA, bytes) => {
      if (!toA && firstSyn(bytes)) {
        const s = new TcpSegment();
        s.parse(bytes, 0, bytes.length, IP_A, IP_B);
        origB.receiveSyn(s);
        origB.accept(0xfffff000); // near the wrap, so sequence arithmetic crosses 2^32
        return;
      }
      wrapped(toA, bytes);
    };
    this.a.connect(0xffffff00);
  }
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const o = new Uint8Array(n);
  let i = 0;
  for (const p of parts) { o.set(p, i); i += p.length; }
  return o;
};

/** Byte-exact comparison (vitest's deep equality is slow on large typed arrays). */
function expectSame(got: Uint8Array, want: Uint8Array, msg = ''): void {
  expect(got.length, `${msg} length`).toBe(want.length);
  const at = got.findIndex((x, i) => x !== want[i]);
  expect(at, `${msg} first differing byte`).toBe(-1);
}

function sendAll(c: TcpConn, data: Uint8Array, chunk = 60000): () => void {
  let off = 0;
  // Feed as the host side would: while there is send space.
  return () => {
    while (off < data.length && c.sendSpace() > 0 && c.state !== TcpState.Closed) {
      const n = Math.min(chunk, data.length - off);
      c.send(data.subarray(off, off + n));
      off += n;
    }
  };
}

describe('TcpConn', () => {
  it('handshake, a clean bidirectional transfer across the 2^32 wrap, orderly close of both ends', () => {
    const p = new Pair();
    p.connect();
    p.run(10e9, () => p.a.state === TcpState.Established && p.b.state === TcpState.Established);
    expect(p.a.stateName).toBe('ESTABLISHED');
    expect(p.b.stateName).toBe('ESTABLISHED');
    const rng = new SeededRng(7);
    const ab = rng.bytes(300_000);
    const ba = rng.bytes(200_000);
    const feedA = sendAll(p.a, ab);
    const feedB = sendAll(p.b, ba);
    for (let i = 0; i < 10_000 && (p.gotBytes('b') < ab.length || p.gotBytes('a') < ba.length); i++) {
      feedA(); feedB();
      p.run(p.clock.nowNs() + 600e9, () => p.wire.length === 0);
      p.run(p.clock.nowNs() + 50e6);
    }
    expectSame(concat(p.got.b), ab);
    expectSame(concat(p.got.a), ba);
    expect(p.a.retransmits + p.b.retransmits).toBe(0);
    p.a.close();
    p.run();
    expect(p.fin.b).toBe(true);
    expect(p.b.stateName).toBe('CLOSE-WAIT');
    expect(p.a.stateName).toBe('FIN-WAIT-2');
    p.b.close();
    p.run();
    expect(p.closed).toEqual({ a: 'closed', b: 'closed' }); // a after TIME-WAIT
  });

  for (const seed of [seedFromEnv(11), 12, 13]) {
    it(`delivers exactly the bytes sent over a lossy, reordering, duplicating link (seed ${seed})`, () => {
      const p = new Pair({ loss: 0.05, dup: 0.03, reorder: 0.1, seed });
      p.connect();
      const rng = new SeededRng(seed);
      const ab = rng.bytes(200_000);
      const ba = rng.bytes(120_000);
      const feedA = sendAll(p.a, ab, 7000);
      const feedB = sendAll(p.b, ba, 5000);
      let t = 0;
      while ((p.gotBytes('b') < ab.length || p.gotBytes('a') < ba.length) && t < 2000) {
        feedA(); feedB();
        p.run(p.clock.nowNs() + 100e6);
        t++;
      }
      expectSame(concat(p.got.b), ab, `seed ${seed}`);
      expectSame(concat(p.got.a), ba, `seed ${seed}`);
      expect(p.a.retransmits + p.b.retransmits).toBeGreaterThan(0);
      p.a.close(); p.b.close();
      p.run(p.clock.nowNs() + 300e9);
      expect(p.closed.a, `seed ${seed}`).toBe('closed');
      expect(p.closed.b, `seed ${seed}`).toBe('closed');
    });
  }

  it('stays consistent when the peer answers synchronously inside an emit (no ACK war, no spurious retransmit)', () => {
    const p = new Pair({ sync: true });
    p.connect();
    expect(p.a.state).toBe(TcpState.Established);
    expect(p.b.state).toBe(TcpState.Established);
    const data = new SeededRng(21).bytes(500_000);
    const back = new SeededRng(22).bytes(300_000);
    p.a.send(data.subarray(0, 250_000));
    p.b.send(back.subarray(0, 250_000));
    p.a.send(data.subarray(250_000));
    p.b.send(back.subarray(250_000));
    p.run();
    expectSame(concat(p.got.b), data);
    expectSame(concat(p.got.a), back);
    expect(p.a.retransmits + p.b.retransmits).toBe(0);
    expect(p.segments).toBeLessThan(2 * (800_000 / 1460) + 50);
    p.a.close();
    p.b.close();
    p.run();
    expect(p.closed).toEqual({ a: 'closed', b: 'closed' });
  });

  it('never overruns a closing window when ACKs come back inside its own emits', () => {
    // Regression: _output read the window once per call, so synchronous ACKs that shrank it
    // mid-loop were ignored and segments past the right edge were dropped, then retransmitted.
    const p = new Pair({ sync: true }, {}, { rcvBuf: 8192 });
    p.connect();
    p.holdB = true;
    const data = new SeededRng(23).bytes(200_000);
    p.a.send(data);
    let released = 0;
    for (let i = 0; i < 1000 && released < data.length; i++) {
      p.run(p.clock.nowNs() + 10e6);
      const got = p.gotBytes('b');
      p.b.release(got - released); // the application reads what arrived
      released = got;
    }
    expectSame(concat(p.got.b), data);
    expect(p.a.retransmits).toBe(0);
  });

  it('a full receiver closes its window; the sender probes and resumes when it opens', () => {
    const p = new Pair({}, {}, { rcvBuf: 8192 });
    p.connect();
    p.run(10e9, () => p.b.state === TcpState.Established);
    p.holdB = true;
    const data = new SeededRng(3).bytes(40_000);
    p.a.send(data);
    p.run(p.clock.nowNs() + 30e9);
    const held = concat(p.got.b).length;
    expect(held).toBe(8192); // exactly the window, then nothing
    expect(p.a.sndWnd).toBe(0);
    const segsBefore = p.segments;
    p.run(p.clock.nowNs() + 30e9);
    expect(p.segments).toBeGreaterThan(segsBefore); // zero-window probes kept going
    expect(p.a.state).toBe(TcpState.Established);
    p.holdB = false;
    p.b.release(held);
    p.run(p.clock.nowNs() + 120e9, () => concat(p.got.b).length === data.length);
    expectSame(concat(p.got.b), data);
  });

  it('gives up with a timeout after maxRetries when the peer vanishes', () => {
    let cut = false;
    const p = new Pair({ drop: () => cut }, { maxRetries: 4 });
    p.connect();
    p.run(10e9, () => p.a.state === TcpState.Established);
    cut = true;
    p.a.send(new Uint8Array(1000));
    p.run(p.clock.nowNs() + 600e9);
    expect(p.closed.a).toBe('timeout');
    expect(p.a.retransmits).toBe(4); // 4 retransmissions, then the 5th timeout gives up
  });

  it('connect to a refusing peer reports refused', () => {
    const p = new Pair();
    p.inject = ((orig) => (toA: boolean, bytes: Uint8Array) => {
      if (!toA && p.b.state === TcpState.Closed) {
        const s = new TcpSegment();
        s.parse(bytes, 0, bytes.length, IP_A, IP_B);
        p.b.receiveSyn(s);
        p.b.refuse();
        return;
      }
      orig(toA, bytes);
    })(p.inject.bind(p));
    p.a.connect(5);
    p.run();
    expect(p.closed).toEqual({ a: 'refused', b: 'refused' });
  });

  it('RST and SYN inside the window but not at rcv.nxt get a challenge ACK, not a reset (RFC 5961)', () => {
    const p = new Pair();
    p.connect();
    p.run(10e9, () => p.b.state === TcpState.Established && p.wire.length === 0);
    const bad = new Uint8Array(20);
    writeTcpHeader(bad, 0, IP_A, IP_B, 1000, 80, (p.b.rcvNxt + 100) >>> 0, 0, TH_RST, 0, 0, -1, 0);
    const segs = p.segments;
    p.inject(false, bad);
    expect(p.b.state).toBe(TcpState.Established);
    expect(p.segments).toBe(segs + 1);
    writeTcpHeader(bad, 0, IP_A, IP_B, 1000, 80, (p.b.rcvNxt + 10) >>> 0, 0, TH_SYN, 0, 0, -1, 0);
    p.inject(false, bad);
    expect(p.b.state).toBe(TcpState.Established);
    writeTcpHeader(bad, 0, IP_A, IP_B, 1000, 80, p.b.rcvNxt, 0, TH_RST, 0, 0, -1, 0);
    p.inject(false, bad);
    expect(p.closed.b).toBe('reset');
  });

  it('ignores seeded out-of-window garbage (valid checksums, random flags and acks) and still transfers intact', () => {
    const seed = seedFromEnv(99);
    const p = new Pair({ seed });
    p.connect();
    p.run(10e9, () => p.b.state === TcpState.Established && p.wire.length === 0);
    const rng = new SeededRng(seed);
    for (let i = 0; i < 5000; i++) {
      const len = rng.int(64);
      const seg = new Uint8Array(20 + len);
      // Outside the receive window: old (before rcv.nxt) or beyond the right edge (rcvBuf 256 KiB).
      const seq = rng.next() < 0.5 ? (p.b.rcvNxt - 1 - rng.int(1_000_000)) >>> 0 : (p.b.rcvNxt + 300_000 + rng.int(1_000_000)) >>> 0;
      const ack = rng.next() < 0.5 ? (p.b.sndNxt + rng.int(2000) - 1000) >>> 0 : rng.u32();
      const flags = rng.int(64) & ~TH_RST & ~TH_SYN; // resets and SYNs are covered above
      seg.set(rng.bytes(len), 20);
      writeTcpHeader(seg, 0, IP_A, IP_B, 1000, 80, seq, ack, flags, rng.int(65536), 0, -1, len);
      p.inject(false, seg);
    }
    p.wire.length = 0; // drop B's challenge ACKs
    p.got.b.length = 0;
    const data = rng.bytes(50_000);
    expect(p.b.state).toBe(TcpState.Established);
    {
      const before = p.b.rcvNxt;
      p.a.send(data);
      p.run(p.clock.nowNs() + 120e9);
      const got = concat(p.got.b);
      expectSame(got, data);
      expect(p.b.rcvNxt).toBe((before + got.length) >>> 0);
    }
  });
});

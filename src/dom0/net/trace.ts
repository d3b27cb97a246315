/**
 * The packet trace: an opt-in ring buffer of what happened to frames at each stage of the
 * domU packet path, timestamped on the Clock. Netfront/netback feed the first stages through
 * the same record() call the bridge and gateway use, so one packet can be followed from the
 * guest's ring to a host socket and back:
 *
 *   t=   1.000000 ms  netfront-tx   vif1.0     10.0.2.15:40000 > 10.0.2.2:80 TCP [S] ...
 *   t=   1.000200 ms  bridge-in     vif1.0     ...
 *   t=   1.000210 ms  bridge-out    gateway    ...
 *   t=   1.000300 ms  gateway-nat   tcp        10.0.2.15:40000 -> 127.0.0.1:80 connect
 *
 * Invariants:
 * - Disabled (the default), record() costs one branch and never looks at the frame; callers
 *   on hot paths still test `trace.enabled` first so they do not even build a note string.
 * - The frame is described at record time (describeFrame) and never retained, which keeps
 *   the bridge's no-retention rule true with tracing on.
 * - At most `capacity` events are kept; older ones are overwritten and counted in `dropped`.
 * - Followers (a live `net-trace` client each) hold the trace on: follow() turns it on, the
 *   last release restores the state it found (off, unless someone had set `enabled` by hand),
 *   so nobody pays for the trace once the last follower leaves.
 * - `seq` numbers every recorded event, 0, 1, 2 ... across clear(): since(seq) finds where a
 *   follower left off, and a gap before the first event it returns is what the ring overwrote.
 */
import type { Clock } from '../../hw/clock.ts';
import { describeFrame } from './describe.ts';

/** Stage names used by this package; other layers add their own (netfront-tx, ring, event, netback-tx ...). */
export type TraceStage =
  | 'netfront-tx' | 'ring' | 'event' | 'netback-tx' | 'netback-rx' | 'netfront-rx'
  | 'bridge-in' | 'bridge-out' | 'bridge-flood' | 'bridge-drop'
  | 'gateway-in' | 'gateway-out' | 'gateway-drop' | 'gateway-nat'
  | 'socket-connect' | 'socket-write' | 'socket-read' | 'socket-close'
  | 'tap-in' | 'tap-out'
  | (string & {});

export interface TraceEvent {
  readonly seq: number;
  readonly tNs: number;
  readonly stage: TraceStage;
  /** Port, interface or table name where it happened. */
  readonly where: string;
  /** The frame's one-line description (when a frame was given), then the note. */
  readonly text: string;
}

export class PacketTrace {
  enabled = false;
  /** Events overwritten because the ring was full. */
  dropped = 0;
  private readonly _ring: (TraceEvent | undefined)[];
  private _next = 0;
  private _seq = 0;
  private _followers = 0;
  private _enabledBefore = false;

  constructor(private readonly _clock: Clock, readonly capacity = 4096) {
    if (!(capacity >= 1)) throw new RangeError(`trace capacity ${capacity} must be >= 1`);
    this._ring = new Array<TraceEvent | undefined>(capacity);
  }

  record(stage: TraceStage, where: string, frame: Uint8Array | null, note = ''): void {
    if (!this.enabled) return;
    const desc = frame === null ? '' : describeFrame(frame);
    const text = desc && note ? `${desc}  (${note})` : desc || note;
    if (this._ring[this._next] !== undefined) this.dropped++;
    this._ring[this._next] = { seq: this._seq++, tNs: this._clock.nowNs(), stage, where, text };
    this._next = (this._next + 1) % this.capacity;
  }

  /** The seq the next recorded event will get. */
  get nextSeq(): number {
    return this._seq;
  }

  /** Clients following the trace live (each holds it on). */
  get followers(): number {
    return this._followers;
  }

  /** Hold the trace on until the returned release is called (once; more calls do nothing). */
  follow(): () => void {
    if (this._followers++ === 0) {
      this._enabledBefore = this.enabled;
      this.enabled = true;
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this._followers === 0) this.enabled = this._enabledBefore;
    };
  }

  /** Events with seq >= `seq` still in the ring, oldest first. */
  since(seq: number): TraceEvent[] {
    const out: TraceEvent[] = [];
    const n = Math.min(this.capacity, Math.max(0, this._seq - seq));
    for (let i = n; i > 0; i--) {
      const e = this._ring[(this._next - i + this.capacity) % this.capacity];
      if (e !== undefined && e.seq >= seq) out.push(e);
    }
    return out;
  }

  /** Recorded events, oldest first. */
  events(): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this._ring[(this._next + i) % this.capacity];
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  clear(): void {
    this._ring.fill(undefined);
    this._next = 0;
    this.dropped = 0;
  }

  /** Human-readable dump; `filter` keeps the events whose text or place contains it. */
  dump(filter?: string): string {
    const lines: string[] = [];
    for (const e of this.events()) {
      if (filter !== undefined && !traceEventMatches(e, filter)) continue;
      lines.push(formatTraceEvent(e));
    }
    if (this.dropped) lines.push(`(${this.dropped} older events overwritten)`);
    return lines.join('\n');
  }
}

/** One event as a dump line: `t=   1.000000 ms  ring           vif1.0     <frame>  (<note>)`. */
export function formatTraceEvent(e: Pick<TraceEvent, 'tNs' | 'stage' | 'where' | 'text'>): string {
  return `t=${(e.tNs / 1e6).toFixed(6).padStart(14)} ms  ${e.stage.padEnd(14)} ${e.where.padEnd(10)} ${e.text}`;
}

/** Dump's filter: the event's place or text contains `filter`. */
export function traceEventMatches(e: Pick<TraceEvent, 'where' | 'text'>, filter: string): boolean {
  return e.where.includes(filter) || e.text.includes(filter);
}

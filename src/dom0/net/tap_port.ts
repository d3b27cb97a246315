/**
 * A bridge port backed by a Linux TAP device through tools/net/tap_relay (a tiny C helper
 * that owns /dev/net/tun and relays frames over its stdin/stdout, each frame preceded by a
 * 2-byte big-endian length). Used to put a real kernel TCP/IP stack (a network namespace)
 * on xenbr0 in tests, and usable to bridge a host interface when running as root.
 *
 * Invariants:
 * - Frames from the TAP are sent to the bridge one by one as they are parsed out of the
 *   stream; a partial frame waits for its rest (the parser keeps at most one frame's bytes).
 * - deliver() copies the frame into the pipe (the bridge lends it only for the call); when
 *   the pipe is backed up past `maxQueuedBytes` frames are dropped and counted, like a full
 *   NIC queue, rather than buffered without bound.
 * - close() ends the helper; the TAP device (non-persistent) disappears with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Bridge, BridgePort, BridgePortHandle } from './bridge.ts';
import type { PacketTrace } from './trace.ts';

export class TapPort implements BridgePort {
  readonly name: string;
  framesIn = 0;
  framesOut = 0;
  dropped = 0;
  private _handle: BridgePortHandle | null = null;
  private _pending = Buffer.alloc(0);
  private _closed = false;

  private constructor(readonly ifname: string, private readonly _child: ChildProcess, private readonly _trace: PacketTrace | undefined,
    private readonly _maxQueued: number) {
    this.name = `tap:${ifname}`;
  }

  /** Start the helper, wait until the TAP exists, attach to the bridge. */
  static open(relayBinary: string, ifname: string, bridge: Bridge, opts: { trace?: PacketTrace; maxQueuedBytes?: number } = {}): Promise<TapPort> {
    const child = spawn(relayBinary, [ifname], { stdio: ['pipe', 'pipe', 'pipe'] });
    const port = new TapPort(ifname, child, opts.trace, opts.maxQueuedBytes ?? 4 * 1024 * 1024);
    return new Promise((resolve, reject) => {
      let err = '';
      const onStderr = (d: Buffer): void => {
        err += d.toString();
        if (err.includes(`ready ${ifname}`)) {
          child.stderr!.off('data', onStderr); // SAFETY: stdio 'pipe' gives a stderr stream
          port._handle = bridge.attach(port);
          resolve(port);
        }
      };
      child.stderr!.on('data', onStderr);
      child.once('error', reject);
      child.once('exit', (code) => { port._closed = true; port._handle?.detach(); if (port._handle === null) reject(new Error(`tap_relay ${ifname} exited (${code}): ${err.trim()}`)); });
      child.stdout!.on('data', (d: Buffer) => port._fromTap(d));
      child.stdin!.on('error', () => { /* the helper died; exit handles it */ });
    });
  }

  deliver(frame: Uint8Array): void {
    const stdin = this._child.stdin;
    if (this._closed || stdin === null || frame.length > 65535) { this.dropped++; return; }
    if (stdin.writableLength > this._maxQueued) { this.dropped++; return; }
    const b = Buffer.allocUnsafe(frame.length + 2);
    b[0] = frame.length >> 8; b[1] = frame.length & 0xff;
    b.set(frame, 2);
    this.framesOut++;
    if (this._trace?.enabled) this._trace.record('tap-out', this.name, frame);
    stdin.write(b);
  }

  private _fromTap(d: Buffer): void {
    let buf = this._pending.length ? Buffer.concat([this._pending, d]) : d;
    let off = 0;
    while (buf.length - off >= 2) {
      const len = (buf[off] << 8) | buf[off + 1];
      if (buf.length - off - 2 < len) break;
      const frame = new Uint8Array(buf.buffer, buf.byteOffset + off + 2, len);
      off += 2 + len;
      this.framesIn++;
      if (this._trace?.enabled) this._trace.record('tap-in', this.name, frame);
      this._handle?.send(frame);
    }
    buf = buf.subarray(off);
    this._pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }

  /** Stop the helper and wait for it to exit. */
  close(): Promise<void> {
    if (this._child.exitCode !== null || this._child.signalCode !== null) { this._handle?.detach(); return Promise.resolve(); }
    return new Promise((resolve) => {
      this._child.once('exit', () => resolve());
      this._child.stdin?.end();
      setTimeout(() => this._child.kill('SIGKILL'), 2000).unref();
    });
  }
}

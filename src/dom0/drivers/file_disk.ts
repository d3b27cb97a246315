/**
 * A raw disk image in a host file: the native driver under blkback (what the loop device
 * and its hotplug script are for a Linux dom0). Asynchronous I/O on one file descriptor;
 * the event loop never waits for the disk.
 *
 * Containment ("no host file outside the configured image is ever touched"): the image is
 * opened once, by path, without O_CREAT (a missing image is an error, never created) and
 * must be a regular file or a block device; every later operation goes through that
 * descriptor and is checked against the device size before it reaches the kernel, so no
 * request can grow the file or reach past its end.
 *
 * Durability: a write completes when pwrite(2) returned, i.e. the data is in the host's
 * page cache and survives the death of this process (kill -9); flush() is fdatasync(2),
 * for what must survive the host machine too.
 *
 * Discard: Node has no fallocate(PUNCH_HOLE), so a discarded range is overwritten with
 * zeros (a valid implementation: reads of discarded sectors may return anything; zeros
 * also make BLKIF_DISCARD_SECURE honest).
 */
import { close, fdatasync, fstat, open, readv, writev, constants, write as fsWrite } from 'node:fs';

export const SECTOR = 512;

export type IoCallback = (err: Error | null) => void;

/** The operations blkback needs from a block device. */
export interface BlockDriver {
  /** Size in 512-byte sectors. */
  readonly sectors: number;
  readonly readonly: boolean;
  readonly path: string;
  /** Fill `bufs` (in order) from byte `pos`. */
  readv(bufs: readonly Uint8Array[], pos: number, cb: IoCallback): void;
  /** Write `bufs` (in order) at byte `pos`. */
  writev(bufs: readonly Uint8Array[], pos: number, cb: IoCallback): void;
  flush(cb: IoCallback): void;
  discard(pos: number, len: number, cb: IoCallback): void;
  /** Operations started and not yet completed. */
  readonly inflight: number;
  close(): Promise<void>;
}

const ZEROS = new Uint8Array(64 * 1024);

export class FileDisk implements BlockDriver {
  inflight = 0;
  private _closed = false;
  private _closing: Promise<void> | null = null;
  private _drained: (() => void) | null = null;

  private constructor(readonly path: string, private readonly _fd: number, readonly sectors: number,
    readonly readonly: boolean) {}

  /** Open an existing image; rejects with a message naming the path and the reason. */
  static open(path: string, opts: { readonly?: boolean } = {}): Promise<FileDisk> {
    const ro = opts.readonly === true;
    return new Promise((resolve, reject) => {
      if (typeof path !== 'string' || path === '' || path.includes('\0')) {
        reject(new Error(`bad image path ${JSON.stringify(path)}`));
        return;
      }
      const flags = (ro ? constants.O_RDONLY : constants.O_RDWR) | (constants.O_NOCTTY ?? 0);
      open(path, flags, (err, fd) => {
        if (err) {
          reject(new Error(`cannot open image ${path}: ${err.code ?? err.message}`));
          return;
        }
        fstat(fd, (serr, st) => {
          if (serr || !(st.isFile() || st.isBlockDevice())) {
            close(fd, () => reject(new Error(`image ${path} is not a regular file or block device`)));
            return;
          }
          const sectors = Math.floor(st.size / SECTOR);
          resolve(new FileDisk(path, fd, sectors, ro));
        });
      });
    });
  }

  private _check(pos: number, len: number, write: boolean): Error | null {
    if (this._closed) return new Error(`image ${this.path} is closed`);
    if (write && this.readonly) return new Error(`image ${this.path} is read-only`);
    if (!(Number.isSafeInteger(pos) && pos >= 0 && len >= 0 && pos + len <= this.sectors * SECTOR)) {
      return new Error(`I/O [${pos}, +${len}) outside image ${this.path}`);
    }
    return null;
  }

  private _start(): void {
    this.inflight++;
  }

  private _done(cb: IoCallback, err: Error | null): void {
    this.inflight--;
    if (this.inflight === 0 && this._drained !== null) this._drained();
    cb(err);
  }

  readv(bufs: readonly Uint8Array[], pos: number, cb: IoCallback): void {
    const len = total(bufs);
    const bad = this._check(pos, len, false);
    if (bad !== null) {
      queueMicrotask(() => cb(bad));
      return;
    }
    this._start();
    readv(this._fd, bufs as Uint8Array[], pos, (err, n) => { // SAFETY: readv does not keep or modify the array
      if (err) this._done(cb, err);
      else if (n !== len) this._done(cb, new Error(`short read (${n} of ${len}) at ${pos} in ${this.path}`));
      else this._done(cb, null);
    });
  }

  writev(bufs: readonly Uint8Array[], pos: number, cb: IoCallback): void {
    const len = total(bufs);
    const bad = this._check(pos, len, true);
    if (bad !== null) {
      queueMicrotask(() => cb(bad));
      return;
    }
    this._start();
    writev(this._fd, bufs as Uint8Array[], pos, (err, n) => { // SAFETY: writev does not keep or modify the array
      if (err) this._done(cb, err);
      else if (n !== len) this._done(cb, new Error(`short write (${n} of ${len}) at ${pos} in ${this.path}`));
      else this._done(cb, null);
    });
  }

  flush(cb: IoCallback): void {
    if (this._closed) {
      queueMicrotask(() => cb(new Error(`image ${this.path} is closed`)));
      return;
    }
    this._start();
    fdatasync(this._fd, (err) => this._done(cb, err));
  }

  discard(pos: number, len: number, cb: IoCallback): void {
    const bad = this._check(pos, len, true);
    if (bad !== null) {
      queueMicrotask(() => cb(bad));
      return;
    }
    this._start();
    const step = (p: number, left: number): void => {
      if (left === 0) {
        this._done(cb, null);
        return;
      }
      const n = Math.min(left, ZEROS.length);
      fsWrite(this._fd, ZEROS, 0, n, p, (err, written) => {
        if (err) this._done(cb, err);
        else if (written !== n) this._done(cb, new Error(`short write while discarding at ${p} in ${this.path}`));
        else step(p + n, left - n);
      });
    };
    step(pos, len);
  }

  /** Close after the I/O in flight completed (new I/O is refused from now on). */
  close(): Promise<void> {
    if (this._closing !== null) return this._closing;
    this._closed = true;
    this._closing = new Promise<void>((resolve) => {
      const fin = (): void => close(this._fd, () => resolve());
      if (this.inflight === 0) fin();
      else this._drained = fin;
    });
    return this._closing;
  }
}

function total(bufs: readonly Uint8Array[]): number {
  let n = 0;
  for (let i = 0; i < bufs.length; i++) n += bufs[i]!.length;
  return n;
}

/**
 * A FIFO of bytes in one growable ring buffer: TCP's send queue (bytes from the host socket
 * waiting to be sent and acknowledged) and the receive side's reassembly store.
 *
 * Invariants: 0 <= length <= capacity; the bytes live at ring[head .. head+length) modulo
 * capacity; capacity is a power of two and only grows (doubling), so steady-state traffic
 * allocates nothing.
 */
export class ByteQueue {
  private _buf: Uint8Array;
  private _head = 0;
  private _len = 0;

  constructor(initialCapacity = 16384) {
    let c = 1024;
    while (c < initialCapacity) c *= 2;
    this._buf = new Uint8Array(c);
  }

  get length(): number { return this._len; }

  push(src: Uint8Array, off: number, len: number): void {
    if (this._len + len > this._buf.length) this._grow(this._len + len);
    const cap = this._buf.length;
    const tail = (this._head + this._len) & (cap - 1);
    const first = Math.min(len, cap - tail);
    this._buf.set(src.subarray(off, off + first), tail);
    if (first < len) this._buf.set(src.subarray(off + first, off + len), 0);
    this._len += len;
  }

  /** Drop n bytes from the front (n <= length). */
  consume(n: number): void {
    if (n > this._len) throw new RangeError(`ByteQueue.consume(${n}) past length ${this._len}`);
    this._head = (this._head + n) & (this._buf.length - 1);
    this._len -= n;
    if (this._len === 0) this._head = 0;
  }

  /** Copy len bytes starting `from` bytes past the front into dst[dstOff..]. */
  copyOut(from: number, dst: Uint8Array, dstOff: number, len: number): void {
    if (from + len > this._len) throw new RangeError(`ByteQueue.copyOut(${from}, ${len}) past length ${this._len}`);
    const cap = this._buf.length;
    const start = (this._head + from) & (cap - 1);
    const first = Math.min(len, cap - start);
    dst.set(this._buf.subarray(start, start + first), dstOff);
    if (first < len) dst.set(this._buf.subarray(0, len - first), dstOff + first);
  }

  private _grow(need: number): void {
    let c = this._buf.length * 2;
    while (c < need) c *= 2;
    const nb = new Uint8Array(c);
    this.copyOut(0, nb, 0, this._len);
    this._buf = nb;
    this._head = 0;
  }
}

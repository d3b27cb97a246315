/**
 * The hypervisor console (Xen's drivers/char/console.c): a ring of text lines that
 * `xl dmesg` reads (XEN_SYSCTL_readconsole), fed by the hypervisor's own messages and by
 * domains writing with CONSOLEIO_write, plus the serial input that CONSOLEIO_read drains.
 *
 * Invariants:
 *  - The ring keeps the newest RING_BYTES bytes; `readIndex` style consumers get a
 *    monotonic byte offset so they can read incrementally and see when they fell behind.
 *  - A domU's bytes are filtered to printable ASCII plus newline/tab (Xen 4.x does this for
 *    non-hardware domains) and prefixed "(dN) " per line; the hypervisor's own lines are
 *    prefixed "(XEN) ".
 */

const RING_BYTES = 1 << 16;

export class HvConsole {
  private readonly _ring = new Uint8Array(RING_BYTES);
  /** Total bytes ever written (the ring holds the last RING_BYTES of them). */
  private _produced = 0;
  private readonly _partial = new Map<number, string>();
  private readonly _input: number[] = [];

  constructor(private readonly _sink?: (line: string) => void) {}

  get produced(): number {
    return this._produced;
  }

  /** A hypervisor message (printk). */
  printk(msg: string): void {
    for (const line of msg.split('\n')) this._line(`(XEN) ${line}`);
  }

  /** Bytes a domain wrote with CONSOLEIO_write (line-buffered per domain). */
  guestWrite(domid: number, bytes: Uint8Array, privileged: boolean): void {
    let s = this._partial.get(domid) ?? '';
    for (const b of bytes) {
      if (b === 10) {
        this._line(privileged && domid === 0 ? s : `(d${domid}) ${s}`);
        s = '';
      } else if (privileged || (b >= 0x20 && b < 0x7f) || b === 9) {
        s += String.fromCharCode(b);
      }
    }
    if (s.length > 4096) {
      this._line(`(d${domid}) ${s}`);
      s = '';
    }
    this._partial.set(domid, s);
  }

  /** The newest `max` bytes of the ring from byte offset `from` (0 = oldest kept). */
  read(from: number, max: number): { text: Uint8Array; next: number } {
    const oldest = Math.max(0, this._produced - RING_BYTES);
    const start = Math.max(from, oldest);
    const n = Math.max(0, Math.min(max, this._produced - start));
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this._ring[(start + i) % RING_BYTES]!;
    return { text: out, next: start + n };
  }

  /** Everything still in the ring, as text. */
  text(): string {
    const t = this.read(0, RING_BYTES).text;
    let s = '';
    for (let i = 0; i < t.length; i++) s += String.fromCharCode(t[i]!);
    return s;
  }

  /** Clear the ring (readconsole with clear). */
  clear(): void {
    this._produced = 0;
  }

  /** Serial input for CONSOLEIO_read (the host's terminal feeds it). */
  pushInput(bytes: Uint8Array): void {
    for (const b of bytes) this._input.push(b);
  }

  readInput(max: number): Uint8Array {
    const n = Math.min(max, this._input.length);
    return Uint8Array.from(this._input.splice(0, n));
  }

  private _line(text: string): void {
    const line = `${text}\n`;
    for (let i = 0; i < line.length; i++) {
      this._ring[this._produced % RING_BYTES] = line.charCodeAt(i) & 0xff;
      this._produced++;
    }
    this._sink?.(text);
  }
}

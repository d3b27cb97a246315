/**
 * The save file: xl's header, the domain's xl.cfg, then a libxc "domain image format"
 * version 2 stream (docs/specs/libxc-migration-stream of Xen) for an x86 PV guest.
 *
 *   xl header (48 bytes)   magic "Xen saved domain, xl format\n \0 \r", byte order
 *                          0x01020304, mandatory flags, optional flags, optional data length
 *   optional data          u32 config length, the domain's xl.cfg text (not JSON: xl reads
 *                          such a config as a config file)
 *   image header (24)      marker ~0 (BE), "XENF" (BE), version 2 (BE), options 0 (LE data)
 *   domain header (16)     type 1 (x86 PV), page_shift 12, Xen major/minor
 *   records                type u32, body_length u32, body, zero padding to 8 bytes:
 *                          X86_PV_INFO, X86_PV_P2M_FRAMES, PAGE_DATA..., X86_PV_VCPU_BASIC...,
 *                          SHARED_INFO, END
 *
 * tsxen writes the libxc stream straight after xl's header, without libxl's own stream
 * layer in between; its mandatory flag TSXEN_FLAG_LIBXC_DIRECT says so, so a real xl
 * refuses the file with "need newer xl" instead of misreading it.
 *
 * Invariants: the reader never trusts a length: every record is bounds-checked against the
 * file, the header fields are checked, and any violation is a SaveFormatError naming the
 * offset; the reader never allocates more than the file holds.
 */

export const XL_SAVE_MAGIC = 'Xen saved domain, xl format\n \0 \r';
export const XL_BYTEORDER = 0x01020304;
export const XL_MANDATORY_FLAG_JSON = 1 << 0;
export const XL_MANDATORY_FLAG_STREAMv2 = 1 << 1;
/** tsxen: the libxc stream follows the xl header directly (no libxl stream layer). */
export const TSXEN_FLAG_LIBXC_DIRECT = 1 << 16;
export const XL_HEADER_SIZE = 48;

export const IHDR_MARKER = 0xffffffffffffffffn;
export const IHDR_ID = 0x58454e46; // "XENF"
export const IHDR_VERSION = 2;
export const DHDR_TYPE_X86_PV = 1;

export const REC_TYPE_END = 0x00;
export const REC_TYPE_PAGE_DATA = 0x01;
export const REC_TYPE_X86_PV_INFO = 0x02;
export const REC_TYPE_X86_PV_P2M_FRAMES = 0x03;
export const REC_TYPE_X86_PV_VCPU_BASIC = 0x04;
export const REC_TYPE_SHARED_INFO = 0x07;
/** Records with bit 31 set are optional: a restorer may skip those it does not know. */
export const REC_TYPE_OPTIONAL = 0x80000000;

export class SaveFormatError extends Error {
  override name = 'SaveFormatError';
}

/** Accumulates a stream as chunks (written out by the caller as it goes). */
export class StreamWriter {
  private _chunks: Uint8Array[] = [];
  private _bytes = 0;

  /** Everything written since the last take(). */
  take(): Uint8Array[] {
    const c = this._chunks;
    this._chunks = [];
    return c;
  }

  get bytes(): number {
    return this._bytes;
  }

  private _push(b: Uint8Array): void {
    this._chunks.push(b);
    this._bytes += b.length;
  }

  /** Write xl's header; returns its flag words and optional data length (xl prints them). */
  xlHeader(config: string): { mandatoryFlags: number; optionalFlags: number; optionalDataLen: number } {
    const cfg = new TextEncoder().encode(config);
    const h = new Uint8Array(XL_HEADER_SIZE + 4 + cfg.length);
    const v = new DataView(h.buffer);
    for (let i = 0; i < 32; i++) h[i] = XL_SAVE_MAGIC.charCodeAt(i);
    v.setUint32(32, XL_BYTEORDER, true);
    v.setUint32(36, XL_MANDATORY_FLAG_STREAMv2 | TSXEN_FLAG_LIBXC_DIRECT, true);
    v.setUint32(40, 0, true);
    v.setUint32(44, 4 + cfg.length, true);
    v.setUint32(48, cfg.length, true);
    h.set(cfg, 52);
    this._push(h);
    return { mandatoryFlags: XL_MANDATORY_FLAG_STREAMv2 | TSXEN_FLAG_LIBXC_DIRECT, optionalFlags: 0, optionalDataLen: 4 + cfg.length };
  }

  imageHeaders(xenMajor: number, xenMinor: number): void {
    const b = new Uint8Array(24 + 16);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, IHDR_MARKER, false);
    v.setUint32(8, IHDR_ID, false);
    v.setUint32(12, IHDR_VERSION, false);
    v.setUint16(16, 0, false); // options: little endian
    v.setUint32(24, DHDR_TYPE_X86_PV, true);
    v.setUint16(28, 12, true);
    v.setUint32(32, xenMajor, true);
    v.setUint32(36, xenMinor, true);
    this._push(b);
  }

  /** A record whose body is the concatenation of `parts`. */
  record(type: number, ...parts: Uint8Array[]): void {
    const len = parts.reduce((n, p) => n + p.length, 0);
    const h = new Uint8Array(8);
    const v = new DataView(h.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, len, true);
    this._push(h);
    for (const p of parts) this._push(p);
    const pad = (8 - (len % 8)) % 8;
    if (pad) this._push(new Uint8Array(pad));
  }
}

export interface XlHeader {
  readonly mandatoryFlags: number;
  readonly config: string;
}

export interface StreamRecord {
  readonly type: number;
  /** Offset of the body in the file (for messages). */
  readonly offset: number;
  readonly body: Uint8Array;
}

/** Reads a whole save file held in memory. */
export class StreamReader {
  private _off = 0;
  private readonly _v: DataView;

  constructor(private readonly _b: Uint8Array) {
    this._v = new DataView(_b.buffer, _b.byteOffset, _b.byteLength);
  }

  private _need(n: number, what: string): void {
    if (n < 0 || this._off + n > this._b.length) {
      throw new SaveFormatError(`truncated save file: ${what} at offset ${this._off} needs ${n} bytes, ${this._b.length - this._off} left`);
    }
  }

  xlHeader(): XlHeader {
    this._need(XL_HEADER_SIZE, 'the xl header');
    for (let i = 0; i < 32; i++) {
      if (this._b[i] !== XL_SAVE_MAGIC.charCodeAt(i)) throw new SaveFormatError('File has wrong magic number - corrupt or for a different tool?');
    }
    if (this._v.getUint32(32, true) !== XL_BYTEORDER) throw new SaveFormatError('File has wrong byte order');
    const mandatory = this._v.getUint32(36, true);
    const known = XL_MANDATORY_FLAG_STREAMv2 | TSXEN_FLAG_LIBXC_DIRECT;
    if ((mandatory & ~known) !== 0 || (mandatory & TSXEN_FLAG_LIBXC_DIRECT) === 0) {
      throw new SaveFormatError(`Savefile has mandatory flag(s) 0x${(mandatory & ~known).toString(16) || mandatory.toString(16)} which are not supported; need newer xl`);
    }
    const optLen = this._v.getUint32(44, true);
    this._off = XL_HEADER_SIZE;
    this._need(optLen, 'the optional data');
    let config = '';
    if (optLen > 0) {
      if (optLen < 4) throw new SaveFormatError('Savefile truncated.');
      const cfgLen = this._v.getUint32(this._off, true);
      if (cfgLen > optLen - 4) throw new SaveFormatError('Savefile truncated.');
      config = new TextDecoder().decode(this._b.subarray(this._off + 4, this._off + 4 + cfgLen));
    }
    this._off += optLen;
    return { mandatoryFlags: mandatory, config };
  }

  imageHeaders(): { xenMajor: number; xenMinor: number } {
    this._need(40, 'the image and domain headers');
    const o = this._off;
    if (this._v.getBigUint64(o, false) !== IHDR_MARKER) throw new SaveFormatError(`offset ${o}: not a libxc v2 image (bad marker)`);
    if (this._v.getUint32(o + 8, false) !== IHDR_ID) throw new SaveFormatError(`offset ${o + 8}: not a libxc image (id is not XENF)`);
    const ver = this._v.getUint32(o + 12, false);
    if (ver !== IHDR_VERSION) throw new SaveFormatError(`offset ${o + 12}: image version ${ver}, tsxen reads version ${IHDR_VERSION}`);
    if ((this._v.getUint16(o + 16, false) & 1) !== 0) throw new SaveFormatError('big-endian images are not supported');
    const type = this._v.getUint32(o + 24, true);
    if (type !== DHDR_TYPE_X86_PV) throw new SaveFormatError(`offset ${o + 24}: domain type ${type}, tsxen restores x86 PV (1) only`);
    const shift = this._v.getUint16(o + 28, true);
    if (shift !== 12) throw new SaveFormatError(`offset ${o + 28}: page_shift ${shift}, expected 12`);
    const hdr = { xenMajor: this._v.getUint32(o + 32, true), xenMinor: this._v.getUint32(o + 36, true) };
    this._off += 40;
    return hdr;
  }

  /** The next record (END included). */
  record(): StreamRecord {
    this._need(8, 'a record header');
    const type = this._v.getUint32(this._off, true);
    const len = this._v.getUint32(this._off + 4, true);
    this._off += 8;
    this._need(len, `record type ${type} (${len} bytes)`);
    const body = this._b.subarray(this._off, this._off + len);
    const offset = this._off;
    this._off += len + ((8 - (len % 8)) % 8);
    if (this._off > this._b.length) this._off = this._b.length;
    return { type, offset, body };
  }
}

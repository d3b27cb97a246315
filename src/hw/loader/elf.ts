/**
 * A strict reader for 32-bit little-endian ELF executables (ELFCLASS32, EM_386).
 *
 * Used by the Multiboot loader (bare machine) and by the PV domain builder. Guest images
 * are untrusted input: every offset and size is bounds-checked against the file before it
 * is used, and every rejection names what was wrong. Nothing here allocates guest memory;
 * callers copy the returned segments where they belong.
 */

export class ElfError extends Error {
  override name = 'ElfError';
}

export interface ElfSegment {
  /** p_type (PT_LOAD = 1, PT_NOTE = 4, ...). */
  readonly type: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly paddr: number;
  readonly fileSize: number;
  readonly memSize: number;
  readonly flags: number;
  readonly align: number;
}

export interface ElfSection {
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
}

export interface ElfNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
}

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const SHT_SYMTAB = 2;
export const SHT_NOTE = 7;
const ET_EXEC = 2;
const EM_386 = 3;

export class Elf32 {
  readonly entry: number;
  readonly segments: readonly ElfSegment[];
  readonly sections: readonly ElfSection[];
  private readonly _view: DataView;

  constructor(readonly image: Uint8Array) {
    if (image.length < 52) throw new ElfError(`image is ${image.length} bytes, too short for an ELF header`);
    if (image[0] !== 0x7f || image[1] !== 0x45 || image[2] !== 0x4c || image[3] !== 0x46) {
      throw new ElfError('not an ELF file (bad magic)');
    }
    if (image[4] !== 1) throw new ElfError(`ELF class ${image[4]} is not ELFCLASS32`);
    if (image[5] !== 1) throw new ElfError(`ELF data encoding ${image[5]} is not little-endian`);
    const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
    this._view = v;
    const type = v.getUint16(16, true);
    const machine = v.getUint16(18, true);
    if (type !== ET_EXEC) throw new ElfError(`ELF type ${type} is not ET_EXEC`);
    if (machine !== EM_386) throw new ElfError(`ELF machine ${machine} is not EM_386`);
    this.entry = v.getUint32(24, true);
    const phoff = v.getUint32(28, true);
    const shoff = v.getUint32(32, true);
    const phentsize = v.getUint16(42, true);
    const phnum = v.getUint16(44, true);
    const shentsize = v.getUint16(46, true);
    const shnum = v.getUint16(48, true);
    const shstrndx = v.getUint16(50, true);

    const segs: ElfSegment[] = [];
    if (phnum > 0) {
      if (phentsize < 32) throw new ElfError(`program header entry size ${phentsize} < 32`);
      this._check(phoff, phentsize * phnum, 'program header table');
      for (let i = 0; i < phnum; i++) {
        const o = phoff + i * phentsize;
        const seg: ElfSegment = {
          type: v.getUint32(o, true),
          offset: v.getUint32(o + 4, true),
          vaddr: v.getUint32(o + 8, true),
          paddr: v.getUint32(o + 12, true),
          fileSize: v.getUint32(o + 16, true),
          memSize: v.getUint32(o + 20, true),
          flags: v.getUint32(o + 24, true),
          align: v.getUint32(o + 28, true),
        };
        if (seg.type === PT_LOAD || seg.type === PT_NOTE) {
          this._check(seg.offset, seg.fileSize, `segment ${i}`);
          if (seg.type === PT_LOAD && seg.memSize < seg.fileSize) {
            throw new ElfError(`segment ${i}: memsz ${seg.memSize} < filesz ${seg.fileSize}`);
          }
          if (seg.type === PT_LOAD && seg.vaddr + seg.memSize > 0x1_0000_0000) {
            throw new ElfError(`segment ${i}: extends past 4 GiB`);
          }
        }
        segs.push(seg);
      }
    }
    this.segments = segs;

    const secs: ElfSection[] = [];
    if (shnum > 0 && shoff !== 0) {
      if (shentsize < 40) throw new ElfError(`section header entry size ${shentsize} < 40`);
      this._check(shoff, shentsize * shnum, 'section header table');
      const raw: Array<Omit<ElfSection, 'name'> & { nameOff: number }> = [];
      for (let i = 0; i < shnum; i++) {
        const o = shoff + i * shentsize;
        raw.push({
          nameOff: v.getUint32(o, true),
          type: v.getUint32(o + 4, true),
          flags: v.getUint32(o + 8, true),
          addr: v.getUint32(o + 12, true),
          offset: v.getUint32(o + 16, true),
          size: v.getUint32(o + 20, true),
        });
      }
      const strtab = shstrndx < raw.length ? raw[shstrndx] : undefined;
      for (const r of raw) {
        const name = strtab && strtab.type !== 8 ? this._cstr(strtab.offset, strtab.size, r.nameOff) : '';
        secs.push({ name, type: r.type, flags: r.flags, addr: r.addr, offset: r.offset, size: r.size });
      }
    }
    this.sections = secs;
    if (!segs.some((s) => s.type === PT_LOAD)) throw new ElfError('no loadable (PT_LOAD) segment');
  }

  /** The file bytes of a segment (not including the zero-filled tail). */
  segmentData(seg: ElfSegment): Uint8Array {
    return this.image.subarray(seg.offset, seg.offset + seg.fileSize);
  }

  /** All notes, from PT_NOTE segments, or SHT_NOTE sections when there are none. */
  notes(): ElfNote[] {
    const ranges: Array<[number, number]> = [];
    for (const s of this.segments) if (s.type === PT_NOTE) ranges.push([s.offset, s.fileSize]);
    if (ranges.length === 0) {
      for (const s of this.sections) if (s.type === SHT_NOTE) {
        this._check(s.offset, s.size, `section ${s.name}`);
        ranges.push([s.offset, s.size]);
      }
    }
    const out: ElfNote[] = [];
    const v = this._view;
    for (const [start, len] of ranges) {
      let o = start;
      const end = start + len;
      while (o + 12 <= end) {
        const namesz = v.getUint32(o, true);
        const descsz = v.getUint32(o + 4, true);
        const type = v.getUint32(o + 8, true);
        const nameStart = o + 12;
        const descStart = nameStart + ((namesz + 3) & ~3);
        const next = descStart + ((descsz + 3) & ~3);
        if (namesz > len || descsz > len || descStart + descsz > end) throw new ElfError('truncated ELF note');
        let nameEnd = nameStart + namesz;
        while (nameEnd > nameStart && this.image[nameEnd - 1] === 0) nameEnd--;
        const name = String.fromCharCode(...this.image.subarray(nameStart, nameEnd));
        out.push({ name, type, desc: this.image.subarray(descStart, descStart + descsz) });
        o = next;
      }
    }
    return out;
  }

  /** Symbols from .symtab (empty if the image is stripped). */
  symbols(): ElfSymbol[] {
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (!symtab) return [];
    const idx = this.sections.indexOf(symtab);
    const raw = this._view;
    // sh_link of the symtab names its string table; re-read it from the header.
    const shoff = raw.getUint32(32, true);
    const shentsize = raw.getUint16(46, true);
    const link = raw.getUint32(shoff + idx * shentsize + 24, true);
    const strtab = this.sections[link];
    if (!strtab) throw new ElfError('symbol table links to a missing string table');
    this._check(symtab.offset, symtab.size, 'symbol table');
    const out: ElfSymbol[] = [];
    for (let o = symtab.offset; o + 16 <= symtab.offset + symtab.size; o += 16) {
      const name = this._cstr(strtab.offset, strtab.size, raw.getUint32(o, true));
      if (name) out.push({ name, value: raw.getUint32(o + 4, true), size: raw.getUint32(o + 8, true) });
    }
    return out;
  }

  symbol(name: string): number | undefined {
    return this.symbols().find((s) => s.name === name)?.value;
  }

  private _check(off: number, len: number, what: string): void {
    if (off + len > this.image.length) {
      throw new ElfError(`${what} (offset ${off}, ${len} bytes) runs past the end of the ${this.image.length}-byte file`);
    }
  }

  private _cstr(tabOff: number, tabSize: number, off: number): string {
    if (off >= tabSize) return '';
    let end = tabOff + off;
    const limit = Math.min(tabOff + tabSize, this.image.length);
    while (end < limit && this.image[end] !== 0) end++;
    return String.fromCharCode(...this.image.subarray(tabOff + off, end));
  }
}

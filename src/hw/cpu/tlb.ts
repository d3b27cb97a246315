/**
 * The flat software TLB (CPU-PERF rule 4): one Int32Array entry per 4 KiB linear page.
 *
 * Entry layout (0 = invalid):
 *   bits 31..12  (machine frame XOR linear page) -- so maddr = (entry & ~0xfff) ^ linear
 *   bit 0  VALID
 *   bit 1  NOUSER   the page is not accessible at CPL 3 (U/S = 0 somewhere on the walk)
 *   bit 2  ROUSER   a CPL-3 write must take the slow path (read-only, or D not yet set)
 *   bit 3  ROSUP    a supervisor write must take the slow path (CR0.WP and read-only, or D
 *                   not yet set)
 *   bit 4  MMIO     not plain RAM: device, open bus or outside machine memory
 *   bit 5  CODE     the frame holds decoded code: writes take the slow path (SMC check)
 *   bit 6  GLOBAL   survives CR3 reloads (PTE.G with CR4.PGE)
 *   bit 7  NX       instruction fetch not allowed (PAE NX with EFER.NXE; HVM: p2m no-exec)
 *   bit 8  HOLE     in the PV hypervisor hole (ExecControls.pvHoleStart): slow path always
 *
 * Fast path of an access: `(entry & mask) === VALID` with the mask chosen per access kind
 * and CPL (Cpu.rdMask, wrMask, fetch mask), plus a no-page-crossing test. Everything else
 * -- miss, A/D update, MMIO, code frames, page-crossing -- goes to one slow path.
 *
 * Invariants:
 *  - Every valid entry's linear page is in `filled[0..count)` (so flushes touch only those);
 *    when `filled` is full the whole array is cleared instead.
 *  - An entry only grants what the page tables granted when it was filled; any page-table
 *    change the guest makes is followed by INVLPG or a CR3 write (architectural rule), and
 *    changes the CPU state makes to the rules (CR0.WP/PG, CR4, EFER.NXE, CPL-independent
 *    flags, A20, MMIO map) flush the whole TLB.
 *  - The TLB may be shared by several Cpus that take turns on one host thread; `owner` is
 *    the Cpu whose translations it holds, and a Cpu flushes it before running if not owner.
 */
export const T_VALID = 1;
export const T_NOUSER = 2;
export const T_ROUSER = 4;
export const T_ROSUP = 8;
export const T_MMIO = 16;
export const T_CODE = 32;
export const T_GLOBAL = 64;
export const T_NX = 128;
export const T_HOLE = 256;

const MAX_FILLED = 16384;

export class Tlb {
  readonly e = new Int32Array(1 << 20);
  private readonly _filled = new Int32Array(MAX_FILLED);
  private _count = 0;
  /** The Cpu whose translations this holds (identity only). */
  owner: object | null = null;

  get size(): number {
    return this._count;
  }

  set(vpn: number, entry: number): void {
    const e = this.e;
    if (e[vpn] === 0) {
      if (this._count === MAX_FILLED) this.flushAll();
      this._filled[this._count++] = vpn;
    }
    e[vpn] = entry;
  }

  flushAll(): void {
    const e = this.e, f = this._filled;
    if (this._count === MAX_FILLED) e.fill(0);
    else for (let i = 0; i < this._count; i++) e[f[i]!] = 0;
    this._count = 0;
  }

  /** CR3 reload: drop everything but global entries. */
  flushNonGlobal(): void {
    const e = this.e, f = this._filled;
    let n = 0;
    for (let i = 0; i < this._count; i++) {
      const v = f[i]!;
      const x = e[v]!;
      if ((x & T_GLOBAL) !== 0) f[n++] = v;
      else e[v] = 0;
    }
    this._count = n;
  }

  /** INVLPG: drop one page (its slot stays in `filled`; harmless). */
  flushPage(vpn: number): void {
    this.e[vpn & 0xfffff] = 0;
  }

  /** A frame started holding code: flag every entry that maps it so writes go slow. */
  markCodeFrame(frame: number): void {
    const e = this.e, f = this._filled;
    for (let i = 0; i < this._count; i++) {
      const v = f[i]!;
      const x = e[v]!;
      if (x !== 0 && (x & T_MMIO) === 0 && (((x ^ (v << 12)) >>> 12) === frame)) e[v] = x | T_CODE;
    }
  }
}

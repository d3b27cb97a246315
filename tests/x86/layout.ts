/**
 * Where differential test cases live in the 32-bit linear address space, and the names of
 * the architectural state they compare. The native oracle (native/oracle.h) uses the same
 * numbers; the emulator harness maps the same linear addresses.
 *
 * Invariants:
 *  - Code runs at CODE_BASE; the byte after the last instruction is CODE_BASE + code.length,
 *    which is where a case that runs to completion ends (its EIP).
 *  - The data region [DATA_BASE, DATA_BASE + DATA_SIZE) is the only memory test code may
 *    touch; its pages straddle one 4 KiB boundary so page-crossing accesses are exercised.
 *  - FS and GS are TLS descriptors with bases FS_BASE and GS_BASE (flat 4 GiB limit, data
 *    read/write, DPL 3): 16-bit addressing reaches the data region only through them.
 */

export const CODE_BASE = 0x0010_0000;
export const CODE_SIZE = 0x2000;
export const DATA_BASE = 0x0020_0000;
export const DATA_SIZE = 0x2000;
export const FS_BASE = DATA_BASE;
export const GS_BASE = DATA_BASE + 0x1000;
export const PAGE_SIZE = 0x1000;

/** The Linux x86-64 kernel's selectors for 32-bit user code (GDT layout it presents). */
export interface Selectors {
  readonly cs: number;
  readonly ds: number; // also SS, ES
  readonly fs: number; // TLS entry with base FS_BASE
  readonly gs: number; // TLS entry with base GS_BASE
}

/** GPR order everywhere in tests/x86: the x86 encoding order. */
export const GPR_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

export const SREG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
export const SES = 0, SCS = 1, SSS = 2, SDS = 3, SFS = 4, SGS = 5;

// EFLAGS bits
export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL = 3 << 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const AC = 1 << 18;
export const ID = 1 << 21;
/** The six arithmetic status flags. */
export const STATUS = CF | PF | AF | ZF | SF | OF;
/**
 * EFLAGS bits compared between the two sides. IF is not visible to user code as state
 * it controls (Linux runs it with IF=1, an emulator harness may not), and RF differs in
 * the frame pushed for faults by whether the handler path is a kernel or a harness.
 */
export const EFLAGS_COMPARED = (STATUS | TF | DF | IOPL | NT | AC | ID | 2) >>> 0;

export const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [TF, 'TF'], [IF, 'IF'],
  [DF, 'DF'], [OF, 'OF'], [NT, 'NT'], [RF, 'RF'], [AC, 'AC'], [ID, 'ID'],
];

export function flagString(v: number): string {
  const on = FLAG_NAMES.filter(([b]) => (v & b) !== 0).map(([, n]) => n);
  return `${hex32(v)} [${on.join(' ')}]`;
}

export function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

export function hex16(v: number): string {
  return (v & 0xffff).toString(16).padStart(4, '0');
}

/** Exception vectors user code can raise (Intel SDM vol. 3, table 6-1). */
export const VEC_NAMES: Readonly<Record<number, string>> = {
  0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 10: '#TS',
  11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 19: '#XM',
};

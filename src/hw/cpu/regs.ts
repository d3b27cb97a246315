/**
 * Architectural numbering of the IA-32 register file, as the CPU's typed arrays index it.
 * These are plain objects (not const enums) so other projects can import them; hot code in
 * src/hw/cpu writes the numbers as literals with the name in a comment, because V8 folds
 * only literal switch cases and esbuild inlines const enums only within one file.
 *
 * General registers (Cpu.regs, Int32Array(8)), in ModRM encoding order:
 *   0 EAX  1 ECX  2 EDX  3 EBX  4 ESP  5 EBP  6 ESI  7 EDI
 * 8-bit registers (Cpu.regs8, a Uint8Array view of the same bytes): AL CL DL BL AH CH DH BH
 *   live at byte offsets R8_OFFSET[r] = 0 4 8 12 1 5 9 13 (little-endian host).
 * Segment registers (Cpu.seg*, Int32Array(8)), in ModRM sreg order, then LDTR and TR:
 *   0 ES  1 CS  2 SS  3 DS  4 FS  5 GS  6 LDTR  7 TR
 */
export const Reg = { EAX: 0, ECX: 1, EDX: 2, EBX: 3, ESP: 4, EBP: 5, ESI: 6, EDI: 7 } as const;
export const Seg = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5, LDTR: 6, TR: 7 } as const;
export type SegIndex = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
export const R8_OFFSET = [0, 4, 8, 12, 1, 5, 9, 13] as const;

/** EFLAGS bits. */
export const Fl = {
  CF: 1 << 0,
  FIXED1: 1 << 1,
  PF: 1 << 2,
  AF: 1 << 4,
  ZF: 1 << 6,
  SF: 1 << 7,
  TF: 1 << 8,
  IF: 1 << 9,
  DF: 1 << 10,
  OF: 1 << 11,
  IOPL: 3 << 12,
  NT: 1 << 14,
  RF: 1 << 16,
  VM: 1 << 17,
  AC: 1 << 18,
  VIF: 1 << 19,
  VIP: 1 << 20,
  ID: 1 << 21,
} as const;
/** The six arithmetic flags (the ones that can be lazy). */
export const FLAGS_ARITH = 0x8d5;

export const Cr0 = {
  PE: 1 << 0, MP: 1 << 1, EM: 1 << 2, TS: 1 << 3, ET: 1 << 4, NE: 1 << 5,
  WP: 1 << 16, AM: 1 << 18, NW: 1 << 29, CD: 1 << 30, PG: 1 << 31,
} as const;

export const Cr4 = {
  VME: 1 << 0, PVI: 1 << 1, TSD: 1 << 2, DE: 1 << 3, PSE: 1 << 4, PAE: 1 << 5, MCE: 1 << 6,
  PGE: 1 << 7, PCE: 1 << 8, OSFXSR: 1 << 9, OSXMMEXCPT: 1 << 10,
} as const;

/** Exception vectors. */
export const Vec = {
  DE: 0, DB: 1, NMI: 2, BP: 3, OF: 4, BR: 5, UD: 6, NM: 7, DF: 8, TS: 10, NP: 11, SS: 12,
  GP: 13, PF: 14, MF: 16, AC: 17, MC: 18, XM: 19,
} as const;

/** #PF error-code bits. */
export const PfErr = { P: 1, W: 2, U: 4, RSVD: 8, I: 16 } as const;

/** Model-specific registers the CPU implements. */
export const Msr = {
  TSC: 0x10,
  APIC_BASE: 0x1b,
  MTRRCAP: 0xfe,
  SYSENTER_CS: 0x174,
  SYSENTER_ESP: 0x175,
  SYSENTER_EIP: 0x176,
  MCG_CAP: 0x179,
  MCG_STATUS: 0x17a,
  MISC_ENABLE: 0x1a0,
  MTRR_PHYSBASE0: 0x200,
  MTRR_FIX64K: 0x250,
  MTRR_FIX16K_80000: 0x258,
  MTRR_FIX16K_A0000: 0x259,
  MTRR_FIX4K_C0000: 0x268,
  MTRR_FIX4K_F8000: 0x26f,
  PAT: 0x277,
  MTRR_DEF_TYPE: 0x2ff,
  EFER: 0xc0000080,
} as const;
export const EFER_NXE = 1 << 11;

/**
 * Segment attributes (Cpu.segAttr), in the VMX access-rights layout: descriptor bits 40-55
 * shifted down by 8, limit 19:16 cleared, plus bit 16 = unusable (a null selector loaded in
 * protected mode).
 *   bits 0-3 type | 4 S | 5-6 DPL | 7 P | 12 AVL | 14 D/B | 15 G | 16 unusable
 */
export const SegAttr = {
  TYPE: 0xf, ACCESSED: 1, WRITABLE: 2, READABLE: 2, EXPAND_DOWN: 4, CONFORMING: 4, CODE: 8,
  S: 1 << 4, DPL_SHIFT: 5, DPL: 3 << 5, P: 1 << 7, AVL: 1 << 12, DB: 1 << 14, G: 1 << 15,
  UNUSABLE: 1 << 16,
} as const;

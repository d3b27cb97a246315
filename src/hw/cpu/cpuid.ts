/**
 * The CPUID model: a coherent P6-family processor (GenuineIntel family 6), configurable.
 *
 * Default features (leaf 1 EDX): FPU (only when an x87 unit is attached), VME (CR4.VME and
 * CR4.PVI, vme.ts), DE, PSE, TSC, MSR, PAE, CX8, SEP, MTRR, PGE, CMOV, PAT, FXSR (with an x87
 * unit that implements FXSAVE). Without VME in the model CR4.VME/PVI are reserved (#GP).
 * Not advertised: MCE/MCA,
 * APIC (the bare PC has no local APIC; a platform with one sets `apic`), PSE-36, MMX, SSE*.
 * Extended leaf 0x80000001 EDX advertises NX (bit 20) when `nx` is set (default on: the
 * paging code implements it; Linux uses it under PAE), and leaf 0x80000008 reports 36
 * physical / 32 linear address bits (MAXPHYADDR = 36 for PAE reserved-bit checks).
 *
 * Debian's 686 kernels need FPU, CX8 and CMOV (and PAE for -pae) and family >= 5/6, so
 * booting them needs the x87 unit attached.
 */
export interface CpuidModel {
  vendor: string;
  family: number;
  model: number;
  stepping: number;
  /** Leaf 1 EDX feature bits (FPU/FXSR are masked by the presence of an x87 unit). */
  edx1: number;
  /** Leaf 1 ECX feature bits. */
  ecx1: number;
  /** Leaf 0x80000001 EDX: NX is bit 20. */
  edx80000001: number;
  brand: string;
  /** Initial APIC id reported in leaf 1 EBX[31:24]. */
  apicId: number;
  /** Extra leaves (e.g. hypervisor leaves 0x40000000+), returned verbatim. */
  extra: Map<number, readonly [number, number, number, number]>;
}

export const CPUID_FPU = 1 << 0;
export const CPUID_VME = 1 << 1;
export const CPUID_DE = 1 << 2;
export const CPUID_PSE = 1 << 3;
export const CPUID_TSC = 1 << 4;
export const CPUID_MSR = 1 << 5;
export const CPUID_PAE = 1 << 6;
export const CPUID_CX8 = 1 << 8;
export const CPUID_APIC = 1 << 9;
export const CPUID_SEP = 1 << 11;
export const CPUID_MTRR = 1 << 12;
export const CPUID_PGE = 1 << 13;
export const CPUID_CMOV = 1 << 15;
export const CPUID_PAT = 1 << 16;
export const CPUID_PSE36 = 1 << 17;
export const CPUID_FXSR = 1 << 24;
export const CPUID_SSE = 1 << 25;
export const CPUID_SSE2 = 1 << 26;
export const CPUID_EXT_NX = 1 << 20;
/** Leaf 1 ECX bit 31: running under a hypervisor (reserved on hardware, set by hypervisors). */
export const CPUID_ECX1_HYPERVISOR = 1 << 31;

export function defaultCpuidModel(): CpuidModel {
  return {
    vendor: 'GenuineIntel',
    family: 6,
    model: 8,
    stepping: 3,
    edx1: CPUID_FPU | CPUID_VME | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_PAE | CPUID_CX8 | CPUID_SEP |
      CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_PAT | CPUID_FXSR,
    ecx1: 0,
    edx80000001: CPUID_EXT_NX,
    brand: 'tsxen IA-32 P6',
    apicId: 0,
    extra: new Map(),
  };
}

function str4(s: string, i: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = (v << 8) | (s.charCodeAt(i + k) & 0xff || 0);
  return v | 0;
}

/** Fill `out` with [EAX, EBX, ECX, EDX] for leaf `eax` (sub-leaf `ecx`). */
export function cpuidLeaf(model: CpuidModel, edx1: number, eax: number, _ecx: number, out: Int32Array): void {
  const leaf = eax >>> 0;
  const extra = model.extra.get(leaf);
  if (extra) {
    out[0] = extra[0]; out[1] = extra[1]; out[2] = extra[2]; out[3] = extra[3];
    return;
  }
  const v = (model.vendor + '\0'.repeat(12)).slice(0, 12);
  const brand = (model.brand + '\0'.repeat(48)).slice(0, 48);
  switch (leaf) {
    case 0:
      out[0] = 2; out[1] = str4(v, 0); out[2] = str4(v, 8); out[3] = str4(v, 4);
      return;
    case 1:
      out[0] = (model.family << 8) | (model.model << 4) | model.stepping;
      out[1] = (model.apicId << 24) | (1 << 16);
      out[2] = model.ecx1;
      out[3] = edx1;
      return;
    case 2:
      // Cache descriptors: 0x01 itself, then "no L3" descriptors a P6 reports.
      out[0] = 0x03020101; out[1] = 0; out[2] = 0; out[3] = 0x0c040843;
      return;
    case 0x80000000:
      out[0] = 0x80000008; out[1] = 0; out[2] = 0; out[3] = 0;
      return;
    case 0x80000001:
      out[0] = 0; out[1] = 0; out[2] = 0; out[3] = model.edx80000001;
      return;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      out[0] = str4(brand, o); out[1] = str4(brand, o + 4); out[2] = str4(brand, o + 8); out[3] = str4(brand, o + 12);
      return;
    }
    case 0x80000008:
      out[0] = 0x2024; out[1] = 0; out[2] = 0; out[3] = 0;
      return;
    default: {
      // Beyond the maximum basic leaf, Intel returns the highest basic leaf's data.
      if (leaf < 0x80000000 && leaf > 2 && !(leaf >= 0x40000000 && leaf < 0x50000000)) {
        cpuidLeaf(model, edx1, 2, 0, out);
        return;
      }
      out[0] = 0; out[1] = 0; out[2] = 0; out[3] = 0;
    }
  }
}

/**
 * Model-specific registers of the P6 model. RDMSR/WRMSR of an index not listed here (or of
 * a feature CPUID does not advertise) is #GP(0), as on hardware.
 *
 *  0x10  TSC              read: clock-derived TSC; write: sets the offset
 *  0x17  PLATFORM_ID      read 0
 *  0x1b  APIC_BASE        stored (only with CPUID.APIC)
 *  0x8b  BIOS_SIGN_ID     microcode revision: stored, reads 0 after reset
 *  0xfe  MTRRCAP          read-only: 8 variable ranges, fixed ranges, WC (with CPUID.MTRR)
 *  0x174-0x176 SYSENTER_CS/ESP/EIP (with CPUID.SEP)
 *  0x179/0x17a MCG_CAP/MCG_STATUS read 0
 *  0x1a0 MISC_ENABLE      stored (fast strings set)
 *  0x200-0x20f, 0x250, 0x258, 0x259, 0x268-0x26f, 0x2ff  MTRRs: stored (memory is all WB)
 *  0x277 PAT              stored (with CPUID.PAT)
 *  0xc0000080 EFER        only NXE (bit 11), with CPUID NX; changing it flushes the TLB
 */
import type { Cpu } from './cpu.ts';
import { CPUID_APIC, CPUID_MTRR, CPUID_PAT, CPUID_SEP, CPUID_EXT_NX } from './cpuid.ts';
import { readTsc } from './sys.ts';

function isMtrr(idx: number): boolean {
  return (idx >= 0x200 && idx <= 0x20f) || idx === 0x250 || idx === 0x258 || idx === 0x259 ||
    (idx >= 0x268 && idx <= 0x26f) || idx === 0x2ff;
}

function stored(cpu: Cpu, idx: number): boolean {
  const s = cpu.msrStore.get(idx);
  cpu.msrLo = s ? s[0] : 0;
  cpu.msrHi = s ? s[1] : 0;
  return true;
}

/** RDMSR into cpu.msrLo/msrHi; false = #GP. */
export function msrRead(cpu: Cpu, idx: number): boolean {
  const f = cpu.cpuidEdx1;
  switch (idx) {
    case 0x10: {
      const t = readTsc(cpu);
      cpu.msrLo = t % 0x100000000 | 0;
      cpu.msrHi = Math.floor(t / 0x100000000) | 0;
      return true;
    }
    case 0x17: case 0x179: case 0x17a:
      cpu.msrLo = 0; cpu.msrHi = 0;
      return true;
    case 0x1b:
      if ((f & CPUID_APIC) === 0) return false;
      cpu.msrLo = cpu.apicBase; cpu.msrHi = 0;
      return true;
    case 0x8b: case 0x1a0:
      return stored(cpu, idx);
    case 0xfe:
      if ((f & CPUID_MTRR) === 0) return false;
      cpu.msrLo = 0x508; cpu.msrHi = 0;
      return true;
    case 0x174: case 0x175: case 0x176:
      if ((f & CPUID_SEP) === 0) return false;
      cpu.msrLo = idx === 0x174 ? cpu.sysenterCs : idx === 0x175 ? cpu.sysenterEsp : cpu.sysenterEip;
      cpu.msrHi = 0;
      return true;
    case 0x277:
      if ((f & CPUID_PAT) === 0) return false;
      return stored(cpu, idx);
    case 0xc0000080:
      if ((cpu.cpuidModel.edx80000001 & CPUID_EXT_NX) === 0) return false;
      cpu.msrLo = cpu.efer; cpu.msrHi = 0;
      return true;
    default:
      if (isMtrr(idx) && (f & CPUID_MTRR) !== 0) return stored(cpu, idx);
      return false;
  }
}

/** WRMSR; false = #GP. */
export function msrWrite(cpu: Cpu, idx: number, lo: number, hi: number): boolean {
  const f = cpu.cpuidEdx1;
  switch (idx) {
    case 0x10: {
      const now = readTsc(cpu) - cpu.tscOffset;
      cpu.tscOffset = (hi >>> 0) * 0x100000000 + (lo >>> 0) - now;
      return true;
    }
    case 0x1b:
      if ((f & CPUID_APIC) === 0) return false;
      cpu.apicBase = lo & 0xfffff900;
      return true;
    case 0x8b: case 0x1a0:
      cpu.msrStore.set(idx, [lo | 0, hi | 0]);
      return true;
    case 0x174: case 0x175: case 0x176:
      if ((f & CPUID_SEP) === 0) return false;
      if (idx === 0x174) cpu.sysenterCs = lo & 0xffff;
      else if (idx === 0x175) cpu.sysenterEsp = lo | 0;
      else cpu.sysenterEip = lo | 0;
      return true;
    case 0x277: {
      if ((f & CPUID_PAT) === 0) return false;
      // each PAT entry is 3 bits of type; types 2 and 3 are reserved
      for (let k = 0; k < 8; k++) {
        const t = ((k < 4 ? lo : hi) >>> ((k & 3) * 8)) & 0xff;
        if (t > 7 || t === 2 || t === 3) return false;
      }
      cpu.msrStore.set(idx, [lo | 0, hi | 0]);
      return true;
    }
    case 0xc0000080: {
      if ((cpu.cpuidModel.edx80000001 & CPUID_EXT_NX) === 0) return false;
      if ((lo & ~0x800) !== 0 || hi !== 0) return false;
      if (((cpu.efer ^ lo) & 0x800) !== 0) cpu.flushTlb();
      cpu.efer = lo & 0x800;
      return true;
    }
    default:
      if (isMtrr(idx) && (f & CPUID_MTRR) !== 0) {
        cpu.msrStore.set(idx, [lo | 0, hi | 0]);
        return true;
      }
      return false;
  }
}

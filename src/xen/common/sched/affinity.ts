/**
 * pCPU masks (Xen's cpumask_t for up to 31 pCPUs): an int32 with bit n = pCPU n, plus the
 * affinity helpers of xen/common/sched/private.h. A vCPU's hard affinity (`v.affinity`) is
 * where it may run; its soft affinity (`v.softAffinity`) is where it prefers to run. -1
 * means "all pCPUs"; every use intersects with the online mask.
 *
 * Balance steps (for_each_affinity_balance_step): a policy first looks for a placement in
 * soft ∩ hard (only when the soft affinity is useful), then in hard.
 */
import type { Vcpu } from '../vcpu.ts';

/** Most pCPUs a mask can name (bit 31 is the sign bit of an int32 mask: not used). */
export const MAX_PCPUS = 31;

export const BALANCE_SOFT_AFFINITY = 0;
export const BALANCE_HARD_AFFINITY = 1;

export function cpuBit(p: number): number {
  return 1 << p;
}

export function testCpu(p: number, mask: number): boolean {
  return ((mask >>> p) & 1) !== 0;
}

export function maskWeight(mask: number): number {
  let m = mask >>> 0, n = 0;
  while (m !== 0) {
    m &= m - 1;
    n++;
  }
  return n;
}

/** cpumask_first: lowest set bit, or `nr` when empty. */
export function firstCpu(mask: number, nr: number): number {
  for (let p = 0; p < nr; p++) if (testCpu(p, mask)) return p;
  return nr;
}

/** cpumask_cycle: the next set bit after `n`, wrapping; `n` itself if it is the only one; `nr` if none. */
export function cycleCpu(n: number, mask: number, nr: number): number {
  for (let i = 1; i <= nr; i++) {
    const p = (n + i) % nr;
    if (testCpu(p, mask)) return p;
  }
  return nr;
}

/** has_soft_affinity: the soft mask narrows the hard one (and still meets it). */
export function hasSoftAffinity(v: Vcpu, online: number): boolean {
  const hard = v.affinity & online, soft = v.softAffinity & online;
  return (soft & online) !== online && (hard & soft) !== hard && (soft & hard) !== 0;
}

/** affinity_balance_cpumask: the pCPUs a balance step may use (online ones only). */
export function balanceMask(v: Vcpu, step: number, online: number): number {
  const hard = v.affinity & online;
  return step === BALANCE_SOFT_AFFINITY ? hard & v.softAffinity : hard;
}

/** Pretty form of a mask for dumps and messages: "all", "0-1", "0,2". */
export function maskString(mask: number, nr: number): string {
  const all = nr >= 31 ? 0x7fffffff : (1 << nr) - 1;
  if ((mask & all) === all) return 'all';
  const parts: string[] = [];
  for (let p = 0; p < nr; p++) {
    if (!testCpu(p, mask)) continue;
    let q = p;
    while (q + 1 < nr && testCpu(q + 1, mask)) q++;
    parts.push(q === p ? `${p}` : `${p}-${q}`);
    p = q;
  }
  return parts.length === 0 ? 'none' : parts.join(',');
}

import { describe, expect, it } from 'vitest';
import {
  __HYPERVISOR_iret, __HYPERVISOR_sched_op, __HYPERVISOR_sched_op_new, DOMID_FIRST_RESERVED, DOMID_SELF, EVTCHN_2L_NR_CHANNELS,
  NR_hypercalls, pvclockScaleDelta, pvclockTscHz, SIZEOF_SHARED_INFO, SIZEOF_VCPU_INFO, XEN_START_INFO_MAGIC_X86_32P,
} from './xen.ts';
import { XEN_LEGACY_MAX_VCPUS } from './arch_x86_32.ts';

describe('xen.ts', () => {
  it('pvclock: 1 GHz TSC (shift 1, mul 2^31) counts ns 1:1; 2 GHz (shift 0) halves', () => {
    expect(pvclockScaleDelta(123456789n, 0x80000000, 1)).toBe(123456789n);
    expect(pvclockScaleDelta(2000n, 0x80000000, 0)).toBe(1000n);
    expect(pvclockScaleDelta(4000n, 0x80000000, -1)).toBe(1000n);
    expect(pvclockTscHz(0x80000000, 1)).toBe(1000000000n);
    expect(pvclockTscHz(0x80000000, 0)).toBe(2000000000n);
  });

  it('pvclock keeps bits 95:32 of the 96-bit product (no 64-bit overflow)', () => {
    const delta = 0xFFFFFFFFFFFFn;
    expect(pvclockScaleDelta(delta, 0xFFFFFFFF, 4)).toBe(((delta << 4n) * 0xFFFFFFFFn) >> 32n);
  });

  it('core numbers hold together', () => {
    expect(__HYPERVISOR_iret).toBe(23);
    expect(__HYPERVISOR_sched_op_new).toBe(__HYPERVISOR_sched_op);
    expect(NR_hypercalls).toBe(64);
    expect(DOMID_SELF).toBe(DOMID_FIRST_RESERVED);
    expect(EVTCHN_2L_NR_CHANNELS).toBe(32 * 32);
    expect(SIZEOF_VCPU_INFO * XEN_LEGACY_MAX_VCPUS).toBe(2048);
    expect(SIZEOF_SHARED_INFO).toBeLessThanOrEqual(4096);
    expect(XEN_START_INFO_MAGIC_X86_32P.length + 1).toBeLessThanOrEqual(32);
  });
});

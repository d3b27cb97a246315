/**
 * multicall (13): a batch of hypercalls, each entry executed as if issued with its `op`
 * in EAX and its args in EBX..EDI; the result is written into the entry (Xen's
 * do_multicall with the compat 32-byte entries).
 *
 * Rules: a multicall inside a multicall is -EINVAL; there is no range check up front
 * (real Xen 4.17 runs the readable entries of an absurd count: multicall_hostile); an
 * unreadable entry or result slot ends the batch with -EFAULT; an iret entry ends the batch and the call returns its
 * result; otherwise the return value is 0 whatever the entries returned. A long batch is
 * continued between entries (the rest of the list re-issued), as Xen does.
 */
import { EFAULT, EINVAL } from '../../abi/errno.ts';
import { __HYPERVISOR_iret, __HYPERVISOR_multicall } from '../../abi/xen.ts';
import type { Xen } from '../xen.ts';
import type { Vcpu } from './vcpu.ts';
import { guestOf } from './kernel.ts';
import { createContinuation, dispatch, hypercallPreemptCheck } from '../arch/x86/hypercall.ts';

const inMulticall = new WeakSet<Vcpu>();

export function doMulticall(xen: Xen, v: Vcpu, list: number, nr: number): number {
  if (inMulticall.has(v)) return -EINVAL;
  const mem = guestOf(v);
  inMulticall.add(v);
  try {
    for (let i = 0; i < nr; i++) {
      const e = xen.scratch.readStruct(mem, list + i * 32, 32);
      if (e === null) return -EFAULT;
      const op = e.getUint32(0, true);
      const a1 = e.getUint32(8, true), a2 = e.getUint32(12, true), a3 = e.getUint32(16, true);
      const a4 = e.getUint32(20, true), a5 = e.getUint32(24, true);
      // Entries are never continued themselves (Xen continues the whole multicall).
      const preemptible = xen.hcPreemptible;
      xen.hcPreemptible = false;
      let result: number;
      try {
        result = dispatch(xen, v, op, a1, a2, a3, a4, a5);
      } finally {
        xen.hcPreemptible = preemptible;
      }
      xen.hcWork++;
      const wrote = xen.scratch.writeU32(mem, list + i * 32 + 4, result);
      if (op === __HYPERVISOR_iret) {
        if (v.pv) v.pv.noReturn = false;
        return result;
      }
      if (!wrote) return -EFAULT;
      if (v.domain.isShutDown || v.domain.dying) return 0;
      if (i + 1 < nr && hypercallPreemptCheck(xen)) {
        return createContinuation(xen, v, __HYPERVISOR_multicall, list + (i + 1) * 32, nr - i - 1);
      }
    }
    return 0;
  } finally {
    inMulticall.delete(v);
  }
}

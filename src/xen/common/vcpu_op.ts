/**
 * vcpu_op (24): bring vCPUs up and down, their timers, runstate, vcpu_info placement
 * (Xen's common/domain.c do_vcpu_op plus the x86 arch part).
 *
 * Facts (Xen 4.17, 32-bit PV):
 *  - Unknown vCPU id: -ENOENT. initialise on an initialised vCPU: -EEXIST; up on an
 *    uninitialised one: -EINVAL; down of the last running vCPU powers the domain off.
 *  - set_periodic_timer: period < 1 ms is -EINVAL. singleshot / stop_singleshot act on
 *    the calling vCPU only (-EINVAL otherwise); a deadline in the past fires at once,
 *    VCPU_SSHOTTMR_future or not (Xen 4.17 as shipped).
 *  - register_vcpu_info: once per vCPU, offset within the page for a 64-byte vcpu_info
 *    (-ENXIO if it would cross the page),
 *    the frame becomes a writable-typed frame held by the vCPU; every selector bit is set
 *    pending afterwards (a spurious event, so nothing is lost).
 *  - get_physid: only for pinned vCPUs (-EINVAL otherwise).
 */
import { EEXIST, EFAULT, EINVAL, ENOENT, ENOSYS, ENXIO } from '../../abi/errno.ts';
import {
  VCPUOP_down, VCPUOP_get_physid, VCPUOP_get_runstate_info, VCPUOP_initialise, VCPUOP_is_up,
  VCPUOP_register_runstate_memory_area, VCPUOP_register_vcpu_info, VCPUOP_register_vcpu_time_memory_area,
  VCPUOP_send_nmi, VCPUOP_set_periodic_timer, VCPUOP_set_singleshot_timer, VCPUOP_stop_periodic_timer,
  VCPUOP_stop_singleshot_timer, VCPUOP_up,
} from '../../abi/vcpu.ts';
import { SHUTDOWN_poweroff } from '../../abi/sched.ts';
import { VCPU_INFO_EVTCHN_PENDING_SEL, VCPU_INFO_EVTCHN_UPCALL_PENDING, VCPU_INFO_TIME } from '../../abi/xen.ts';
import { maddr } from '../../hw/memory/addr.ts';
import type { Xen } from '../xen.ts';
import { VPF_down, type Vcpu } from './vcpu.ts';
import { guestOf } from './kernel.ts';
import { PGT_writable_page } from '../mm/frame_table.ts';
import { setPvContext, SIZEOF_VCPU_GUEST_CONTEXT } from '../arch/x86/pv/pv_context.ts';
import { PvGuestMemory } from '../arch/x86/pv/pv_guest_memory.ts';

/**
 * update_vcpu_system_time: refresh the vcpu_info time record and, when the guest
 * registered one (VCPUOP_register_vcpu_time_memory_area), its secondary copy in guest
 * memory (a copy Xen cannot write is skipped, as Xen's __copy_to_guest failure is).
 */
export function updateVcpuSystemTime(xen: Xen, v: Vcpu): void {
  xen.time.updateVcpuTime(v);
  if (v.timeArea === 0 || v.vcpuInfoMa < 0) return;
  const b = xen.mem.u8.subarray(v.vcpuInfoMa + VCPU_INFO_TIME, v.vcpuInfoMa + VCPU_INFO_TIME + 32);
  guestOf(v).write(v.timeArea, b, 32);
}

/** Write a vCPU's runstate (44 bytes) at a guest address of `caller`'s memory. */
function putRunstate(xen: Xen, caller: Vcpu, v: Vcpu, gva: number): boolean {
  const s = v.runstateSnapshot(xen.time.now());
  const out = xen.scratch.out(44);
  out.setInt32(0, s.state, true);
  setU64(out, 4, s.entry);
  for (let i = 0; i < 4; i++) setU64(out, 12 + i * 8, s.time[i]!);
  return xen.scratch.writeOut(guestOf(caller), gva, 44);
}

function setU64(view: DataView, off: number, x: number): void {
  const n = Math.max(0, Math.floor(x));
  view.setUint32(off, n % 0x100000000, true);
  view.setUint32(off + 4, Math.floor(n / 0x100000000), true);
}

export function doVcpuOp(xen: Xen, cur: Vcpu, cmd: number, vcpuid: number, arg: number): number {
  const d = cur.domain;
  const v = d.vcpu(vcpuid);
  if (v === null) return -ENOENT;
  const mem = guestOf(cur);
  switch (cmd) {
    case VCPUOP_initialise: {
      if (v.pv === null) return -EINVAL;
      const c = xen.scratch.readStruct(mem, arg, SIZEOF_VCPU_GUEST_CONTEXT);
      if (c === null) return -EFAULT;
      if (v.initialised) return -EEXIST;
      return setPvContext(xen, v, c);
    }
    case VCPUOP_up:
      if (!v.initialised) return -EINVAL;
      if ((v.pauseFlags & VPF_down) !== 0) {
        v.pauseFlags &= ~VPF_down;
        xen.sched.update(v);
      }
      return 0;
    case VCPUOP_down: {
      let others = false;
      for (const w of d.vcpus) if (w && w !== v && w.isUp) others = true;
      if (!others) {
        xen.shutdownDomain(d, SHUTDOWN_poweroff);
        return 0;
      }
      if ((v.pauseFlags & VPF_down) === 0) {
        v.pauseFlags |= VPF_down;
        xen.sched.update(v);
      }
      return 0;
    }
    case VCPUOP_is_up:
      return v.isUp ? 1 : 0;
    case VCPUOP_get_runstate_info:
      return putRunstate(xen, cur, v, arg) ? 0 : -EFAULT;
    case VCPUOP_set_periodic_timer: {
      const r = xen.scratch.readStruct(mem, arg, 8);
      if (r === null) return -EFAULT;
      const period = r.getUint32(0, true) + r.getUint32(4, true) * 0x100000000;
      if (period < 1_000_000 || period >= 2 ** 62) return -EINVAL;
      xen.vcpuTimers.setPeriodic(v, period);
      return 0;
    }
    case VCPUOP_stop_periodic_timer:
      xen.vcpuTimers.setPeriodic(v, 0);
      return 0;
    case VCPUOP_set_singleshot_timer: {
      if (v !== cur) return -EINVAL;
      const r = xen.scratch.readStruct(mem, arg, 12);
      if (r === null) return -EFAULT;
      const t = r.getUint32(0, true) + r.getUint32(4, true) * 0x100000000;
      // VCPU_SSHOTTMR_future no longer yields -ETIME (Xen 4.17 as shipped, measured on
      // refxen): a deadline in the past fires at once, like any other.
      xen.vcpuTimers.setSingleshot(v, Math.max(t, 1));
      return 0;
    }
    case VCPUOP_stop_singleshot_timer:
      if (v !== cur) return -EINVAL;
      xen.vcpuTimers.setSingleshot(v, 0);
      return 0;
    case VCPUOP_register_vcpu_info: {
      const r = xen.scratch.readStruct(mem, arg, 16);
      if (r === null) return -EFAULT;
      return registerVcpuInfo(xen, cur, v, r.getUint32(0, true) + r.getUint32(4, true) * 0x100000000, r.getUint32(8, true));
    }
    case VCPUOP_register_runstate_memory_area: {
      const r = xen.scratch.readStruct(mem, arg, 8);
      if (r === null) return -EFAULT;
      const gva = r.getUint32(0, true);
      if (v.pv !== null && !PvGuestMemory.ok(gva, 44)) return -EFAULT;
      v.runstateArea = gva;
      if (gva !== 0) putRunstate(xen, cur, v, gva);
      return 0;
    }
    case VCPUOP_register_vcpu_time_memory_area: {
      const r = xen.scratch.readStruct(mem, arg, 8);
      if (r === null) return -EFAULT;
      const gva = r.getUint32(0, true);
      if (v.pv !== null && !PvGuestMemory.ok(gva, 32)) return -EFAULT;
      v.timeArea = gva;
      updateVcpuSystemTime(xen, v);
      return 0;
    }
    case VCPUOP_send_nmi:
      if (arg !== 0) return -EINVAL;
      if (v.pv !== null && !v.pv.nmiPending) {
        v.pv.nmiPending = true;
        xen.vcpuKick(v);
      }
      return 0;
    case VCPUOP_get_physid:
      return -EINVAL;
    default:
      return -ENOSYS;
  }
}

/** map_vcpu_info: move a vCPU's vcpu_info into a frame of the domain. */
function registerVcpuInfo(xen: Xen, cur: Vcpu, v: Vcpu, gfn: number, offset: number): number {
  // Xen 4.17 (measured on refxen): a vcpu_info that would cross the page is -ENXIO; it
  // must be aligned as the 32-bit compat struct is (4 bytes).
  if (offset > 4096 - 64) return -ENXIO;
  if ((offset & 3) !== 0) return -EINVAL;
  if (v.vcpuInfoRegistered) return -EINVAL;
  if (v !== cur && v.isUp) return -EINVAL;
  const d = v.domain;
  const mfn = d.native !== null ? Math.floor(Math.max(0, d.native.maddrOf(gfn * 4096)) / 4096) : gfn;
  if (!xen.mm.ft.valid(mfn) || !xen.mm.getPage(mfn, d.domid)) return -EINVAL;
  if (xen.pageTypes.getPageType(mfn, PGT_writable_page) !== 0) {
    xen.mm.putPage(mfn);
    return -EINVAL;
  }
  const ma = mfn * 4096 + offset;
  if (v.vcpuInfoMa >= 0) xen.mem.copy(maddr(ma), maddr(v.vcpuInfoMa), 64);
  v.vcpuInfoMa = ma;
  v.vcpuInfoMfn = mfn;
  v.vcpuInfoRegistered = true;
  // Mark everything pending so nothing raised during the move is lost.
  xen.mem.view.setInt32(ma + VCPU_INFO_EVTCHN_PENDING_SEL, -1, true);
  xen.mem.u8[ma + VCPU_INFO_EVTCHN_UPCALL_PENDING] = 1;
  xen.time.updateVcpuTime(v);
  return 0;
}

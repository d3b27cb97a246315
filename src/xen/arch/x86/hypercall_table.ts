/**
 * The hypercall table: number -> handler, for the x86_32 PV ABI (hypercalls-x86_32.md §2).
 * Handlers of PV-only hypercalls are wrapped so a native (auto-translated) caller gets
 * -ENOSYS, as an HVM/PVH domain does on Xen. Numbers with no entry return -ENOSYS.
 */
import { EACCES, EFAULT, EINVAL, ENODEV, ENOENT, ENOSYS, EOPNOTSUPP, EPERM } from '../../../abi/errno.ts';
import {
  __HYPERVISOR_arch_0, __HYPERVISOR_callback_op, __HYPERVISOR_console_io, __HYPERVISOR_domctl,
  __HYPERVISOR_event_channel_op, __HYPERVISOR_event_channel_op_compat, __HYPERVISOR_fpu_taskswitch,
  __HYPERVISOR_get_debugreg, __HYPERVISOR_grant_table_op, __HYPERVISOR_hvm_op, __HYPERVISOR_iret,
  __HYPERVISOR_kexec_op, __HYPERVISOR_memory_op, __HYPERVISOR_mmu_update, __HYPERVISOR_mmuext_op,
  __HYPERVISOR_multicall, __HYPERVISOR_nmi_op, __HYPERVISOR_physdev_op, __HYPERVISOR_physdev_op_compat,
  __HYPERVISOR_platform_op, __HYPERVISOR_sched_op, __HYPERVISOR_sched_op_compat, __HYPERVISOR_set_callbacks,
  __HYPERVISOR_set_debugreg, __HYPERVISOR_set_gdt, __HYPERVISOR_set_timer_op, __HYPERVISOR_set_trap_table,
  __HYPERVISOR_stack_switch, __HYPERVISOR_sysctl, __HYPERVISOR_update_descriptor, __HYPERVISOR_update_va_mapping,
  __HYPERVISOR_update_va_mapping_otherdomain, __HYPERVISOR_vcpu_op, __HYPERVISOR_vm_assist,
  __HYPERVISOR_hypfs_op, __HYPERVISOR_xen_version, __HYPERVISOR_xenoprof_op, __HYPERVISOR_xsm_op, MMUEXT_PIN_L1_TABLE,
  MMUEXT_UNPIN_TABLE, NR_hypercalls,
} from '../../../abi/xen.ts';
import { XENPF_INTERFACE_VERSION } from '../../../abi/platform.ts';
import type { HypercallFn } from './hypercall.ts';
import { doXenVersion, doVmAssist, guestOf } from '../../common/kernel.ts';
import { doMemoryOp } from '../../common/memory.ts';
import { doMulticall } from '../../common/multicall.ts';
import { doSchedOp, doSchedOpCompat, doSetTimerOp } from '../../common/sched/sched_op.ts';
import { doEventChannelOp, doEventChannelOpCompat } from '../../common/event_channel_op.ts';
import { doGrantTableOp } from '../../common/grant_table_op.ts';
import { doConsoleIo } from '../../common/console_io.ts';
import { doVcpuOp } from '../../common/vcpu_op.ts';
import { doDomctl } from '../../common/domctl.ts';
import { doSysctl } from '../../common/sysctl.ts';
import { doPhysdevOp, doPhysdevOpCompat } from './physdev.ts';
import { doMmuUpdate, doMmuextOp, doUpdateVaMapping, doUpdateVaMappingOtherdomain } from './mm/mm_hypercalls.ts';
import {
  doCallbackOp, doFpuTaskswitch, doGetDebugreg, doIret, doNmiOp, doSetCallbacks, doSetDebugreg, doSetGdt,
  doSetTrapTable, doStackSwitch, doUpdateDescriptor,
} from './pv/pv_hypercalls.ts';

/** Only PV vCPUs may make this call (an auto-translated caller gets -ENOSYS). */
function pvOnly(fn: HypercallFn): HypercallFn {
  return (xen, v, a1, a2, a3, a4, a5) => (v.pv === null ? -ENOSYS : fn(xen, v, a1, a2, a3, a4, a5));
}

/** platform_op: copy the header, check the version, then dom0 only (-EPERM). */
const doPlatformOp: HypercallFn = (xen, v, arg) => {
  const h = xen.scratch.readStruct(guestOf(v), arg, 8);
  if (h === null) return -EFAULT;
  if (h.getUint32(4, true) !== XENPF_INTERFACE_VERSION) return -EACCES;
  return v.domain.privileged ? -ENOSYS : -EPERM;
};

/** Highest xenoprof op (XENOPROF_last_op = XENOPROF_ibs_counter). */
const XENOPROF_LAST_OP = 16;
const SIZEOF_XENOPROF_INIT = 76;

/**
 * xenoprof_op as Debian's 4.17 build answers (it is built in): bad ops -EINVAL;
 * XENOPROF_init reads its struct (-EFAULT) and then finds no profiling hardware
 * (-ENODEV: the emulated CPU has no performance counters); the other ops need an
 * initialised profiler and a primary profiling domain (-EPERM).
 */
const doXenoprofOp: HypercallFn = (xen, v, op, arg) => {
  op |= 0;
  if (op < 0 || op > XENOPROF_LAST_OP) return -EINVAL;
  if (op !== 0) return -EPERM;
  if (xen.scratch.readStruct(guestOf(v), arg, SIZEOF_XENOPROF_INIT) === null) return -EFAULT;
  return -ENODEV;
};

/** hypfs_op: built in, for privileged domains only; this one exposes no entries. */
const XEN_HYPFS_OP_get_version = 0;
const XEN_HYPFS_VERSION = 1;
const doHypfsOp: HypercallFn = (_xen, v, cmd) => {
  if (!v.domain.privileged) return -EPERM;
  return cmd === XEN_HYPFS_OP_get_version ? XEN_HYPFS_VERSION : -ENOENT;
};

const TABLE: Array<HypercallFn | null> = new Array<HypercallFn | null>(NR_hypercalls).fill(null);

TABLE[__HYPERVISOR_set_trap_table] = pvOnly((x, v, a1) => doSetTrapTable(x, v, a1));
TABLE[__HYPERVISOR_mmu_update] = pvOnly((x, v, a1, a2, a3, a4) => doMmuUpdate(x, v, a1, a2, a3, a4));
TABLE[__HYPERVISOR_set_gdt] = pvOnly((x, v, a1, a2) => doSetGdt(x, v, a1, a2));
TABLE[__HYPERVISOR_stack_switch] = pvOnly((x, v, a1, a2) => doStackSwitch(x, v, a1, a2));
TABLE[__HYPERVISOR_set_callbacks] = pvOnly((x, v, a1, a2, a3, a4) => doSetCallbacks(x, v, a1, a2, a3, a4));
TABLE[__HYPERVISOR_fpu_taskswitch] = pvOnly((x, v, a1) => doFpuTaskswitch(x, v, a1));
TABLE[__HYPERVISOR_sched_op_compat] = (x, v, a1, a2) => doSchedOpCompat(x, v, a1, a2);
TABLE[__HYPERVISOR_platform_op] = doPlatformOp;
TABLE[__HYPERVISOR_set_debugreg] = pvOnly((x, v, a1, a2) => doSetDebugreg(x, v, a1, a2));
TABLE[__HYPERVISOR_get_debugreg] = pvOnly((x, v, a1) => doGetDebugreg(x, v, a1));
TABLE[__HYPERVISOR_update_descriptor] = pvOnly((x, v, a1, a2, a3, a4) => doUpdateDescriptor(x, v, a1, a2, a3, a4));
TABLE[__HYPERVISOR_memory_op] = (x, v, a1, a2) => doMemoryOp(x, v, a1, a2);
TABLE[__HYPERVISOR_multicall] = (x, v, a1, a2) => doMulticall(x, v, a1, a2);
TABLE[__HYPERVISOR_update_va_mapping] = pvOnly((x, v, a1, a2, a3, a4) => doUpdateVaMapping(x, v, a1, a2, a3, a4));
TABLE[__HYPERVISOR_set_timer_op] = (x, v, a1, a2) => doSetTimerOp(x, v, a1, a2);
TABLE[__HYPERVISOR_event_channel_op_compat] = (x, v, a1) => doEventChannelOpCompat(x, v, a1);
TABLE[__HYPERVISOR_xen_version] = (x, v, a1, a2) => doXenVersion(x, v, a1, a2);
TABLE[__HYPERVISOR_console_io] = (x, v, a1, a2, a3) => doConsoleIo(x, v, a1, a2, a3);
TABLE[__HYPERVISOR_physdev_op_compat] = (x, v, a1) => doPhysdevOpCompat(x, v, a1);
TABLE[__HYPERVISOR_grant_table_op] = (x, v, a1, a2, a3) => doGrantTableOp(x, v, a1, a2, a3);
TABLE[__HYPERVISOR_vm_assist] = (x, v, a1, a2) => doVmAssist(x, v, a1, a2);
TABLE[__HYPERVISOR_update_va_mapping_otherdomain] =
  pvOnly((x, v, a1, a2, a3, a4, a5) => doUpdateVaMappingOtherdomain(x, v, a1, a2, a3, a4, a5));
TABLE[__HYPERVISOR_iret] = pvOnly((x, v) => doIret(x, v));
TABLE[__HYPERVISOR_vcpu_op] = (x, v, a1, a2, a3) => doVcpuOp(x, v, a1, a2, a3);
TABLE[__HYPERVISOR_mmuext_op] = (x, v, a1, a2, a3, a4) => {
  if (v.pv === null) {
    // An auto-translated caller (dom0's builder) may only pin and unpin a PV guest's tables.
    const op = x.scratch.readU32(guestOf(v), a1);
    if (op !== null && a2 > 0 && (op < MMUEXT_PIN_L1_TABLE || op > MMUEXT_UNPIN_TABLE)) return -EOPNOTSUPP;
  }
  return doMmuextOp(x, v, a1, a2, a3, a4);
};
TABLE[__HYPERVISOR_xsm_op] = () => -ENOSYS;
TABLE[__HYPERVISOR_nmi_op] = pvOnly((x, v, a1, a2) => doNmiOp(x, v, a1, a2));
TABLE[__HYPERVISOR_sched_op] = (x, v, a1, a2) => doSchedOp(x, v, a1, a2);
TABLE[__HYPERVISOR_callback_op] = pvOnly((x, v, a1, a2) => doCallbackOp(x, v, a1, a2));
TABLE[__HYPERVISOR_xenoprof_op] = doXenoprofOp;
TABLE[__HYPERVISOR_hypfs_op] = doHypfsOp;
TABLE[__HYPERVISOR_event_channel_op] = (x, v, a1, a2) => doEventChannelOp(x, v, a1, a2);
TABLE[__HYPERVISOR_physdev_op] = (x, v, a1, a2) => doPhysdevOp(x, v, a1, a2);
TABLE[__HYPERVISOR_hvm_op] = (_x, v) => (v.domain.kind === 'hvm' ? -ENOSYS : -EINVAL);
TABLE[__HYPERVISOR_sysctl] = (x, v, a1) => doSysctl(x, v, a1);
TABLE[__HYPERVISOR_domctl] = (x, v, a1) => doDomctl(x, v, a1);
TABLE[__HYPERVISOR_kexec_op] = (_x, v) => (v.domain.privileged ? -ENOSYS : -EPERM);
TABLE[__HYPERVISOR_arch_0] = (_x, v) => (v.domain.privileged ? -ENOSYS : -EPERM);

export const HYPERCALLS: ReadonlyArray<HypercallFn | null> = TABLE;


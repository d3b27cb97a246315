/**
 * xen_version (17) and vm_assist (21): Xen's common/kernel.c, as a Xen 4.17 presents them
 * to a 32-bit PV guest.
 *
 * Version and feature facts:
 *  - XENVER_version = 4.17; platform_parameters.virt_start = HYPERVISOR_VIRT_START.
 *  - Feature submap 0 of a PV domain: mmu_pt_update_preserve_ad, highmem_assist,
 *    gnttab_map_avail_bits, memory_op_vnode_supported, not_direct_mapped;
 *    pae_pgdir_above_4gb while the pae_extended_cr3 assist is on; dom0 for the control
 *    domain. Any other submap index: -EINVAL.
 *  - An unprivileged domain reading the command line gets "<denied>"; build_id is -EPERM.
 *  - vm_assist accepts the PV32 types 0..5; another type is -EINVAL, another cmd -ENOSYS.
 */
import { EFAULT, EINVAL, ENOSYS, EPERM } from '../../abi/errno.ts';
import {
  XENVER_build_id, XENVER_capabilities, XENVER_changeset, XENVER_commandline, XENVER_compile_info,
  XENVER_extraversion, XENVER_get_features, XENVER_guest_handle, XENVER_pagesize, XENVER_platform_parameters,
  XENVER_version, XEN_CAPABILITIES_INFO_LEN, XEN_CHANGESET_INFO_LEN, XEN_COMMANDLINE_INFO_LEN, XEN_EXTRAVERSION_LEN,
} from '../../abi/version.ts';
import {
  XENFEAT_dom0, XENFEAT_gnttab_map_avail_bits, XENFEAT_highmem_assist, XENFEAT_memory_op_vnode_supported,
  XENFEAT_mmu_pt_update_preserve_ad, XENFEAT_not_direct_mapped, XENFEAT_direct_mapped, XENFEAT_pae_pgdir_above_4gb,
} from '../../abi/features.ts';
import { HYPERVISOR_VIRT_START } from '../../abi/arch_x86_32.ts';
import { VMASST_CMD_disable, VMASST_CMD_enable, VMASST_TYPE_pae_extended_cr3 } from '../../abi/xen.ts';
import type { Xen } from '../xen.ts';
import type { Vcpu } from './vcpu.ts';
import type { Domain } from './domain.ts';
import type { GuestMemory } from './guest_access.ts';

export const XEN_MAJOR = 4;
export const XEN_MINOR = 17;
export const XEN_EXTRAVERSION = '.0';
export const XEN_CAPABILITIES = 'xen-3.0-x86_32p';
export const XEN_CHANGESET = 'unavailable';
export const XEN_COMMANDLINE = 'tsxen';
export const XEN_COMPILE = { compiler: 'tsxen (TypeScript)', by: 'tsxen', domain: 'tsxen', date: 'Thu Jan  1 00:00:00 UTC 2026' };

/** PV32 vm_assist types 0..5. */
export const VMASST_VALID_PV32 = 0x3f;

/** The feature submap a domain sees (XENVER_get_features, submap 0). */
export function featureSubmap(d: Domain): number {
  // PV domains are not translated: their frames are direct mapped (Xen 4.17's rule:
  // !paging_mode_translate(d) || is_domain_direct_mapped(d)).
  let m = (1 << XENFEAT_memory_op_vnode_supported) |
    (d.kind === 'pv' ? 1 << XENFEAT_direct_mapped : 1 << XENFEAT_not_direct_mapped);
  if ((d.vmAssist & (1 << VMASST_TYPE_pae_extended_cr3)) !== 0) m |= 1 << XENFEAT_pae_pgdir_above_4gb;
  if (d.kind !== 'hvm') {
    m |= (1 << XENFEAT_mmu_pt_update_preserve_ad) | (1 << XENFEAT_highmem_assist) | (1 << XENFEAT_gnttab_map_avail_bits);
  }
  if (d.privileged && d.domid === 0) m |= 1 << XENFEAT_dom0;
  return m >>> 0;
}

function putString(xen: Xen, mem: GuestMemory, gva: number, s: string, size: number): number {
  const out = xen.scratch.out(size);
  for (let i = 0; i < s.length && i < size - 1; i++) out.setUint8(i, s.charCodeAt(i) & 0xff);
  return xen.scratch.writeOut(mem, gva, size) ? 0 : -EFAULT;
}

export function doXenVersion(xen: Xen, v: Vcpu, cmd: number, arg: number): number {
  const d = v.domain;
  const mem = guestOf(v);
  const deny = !d.privileged;
  switch (cmd) {
    case XENVER_version:
      return (XEN_MAJOR << 16) | XEN_MINOR;
    case XENVER_extraversion:
      return putString(xen, mem, arg, XEN_EXTRAVERSION, XEN_EXTRAVERSION_LEN);
    case XENVER_compile_info: {
      const out = xen.scratch.out(144);
      const put = (s: string, off: number, len: number): void => {
        for (let i = 0; i < s.length && i < len - 1; i++) out.setUint8(off + i, s.charCodeAt(i) & 0xff);
      };
      put(XEN_COMPILE.compiler, 0, 64);
      put(XEN_COMPILE.by, 64, 16);
      put(XEN_COMPILE.domain, 80, 32);
      put(XEN_COMPILE.date, 112, 32);
      return xen.scratch.writeOut(mem, arg, 144) ? 0 : -EFAULT;
    }
    case XENVER_capabilities:
      return putString(xen, mem, arg, XEN_CAPABILITIES, XEN_CAPABILITIES_INFO_LEN);
    case XENVER_changeset:
      return putString(xen, mem, arg, XEN_CHANGESET, XEN_CHANGESET_INFO_LEN);
    case XENVER_platform_parameters: {
      const out = xen.scratch.out(4);
      out.setUint32(0, HYPERVISOR_VIRT_START, true);
      return xen.scratch.writeOut(mem, arg, 4) ? 0 : -EFAULT;
    }
    case XENVER_get_features: {
      const inp = xen.scratch.readStruct(mem, arg, 8);
      if (inp === null) return -EFAULT;
      if (inp.getUint32(0, true) !== 0) return -EINVAL;
      inp.setUint32(4, featureSubmap(d), true);
      return xen.scratch.writeBack(mem, arg, 8) ? 0 : -EFAULT;
    }
    case XENVER_pagesize:
      return arg !== 0 ? -EINVAL : 4096;
    case XENVER_guest_handle: {
      const out = xen.scratch.out(16);
      for (let i = 0; i < 16; i++) out.setUint8(i, d.handle[i]!);
      return xen.scratch.writeOut(mem, arg, 16) ? 0 : -EFAULT;
    }
    case XENVER_commandline:
      return putString(xen, mem, arg, deny ? '<denied>' : XEN_COMMANDLINE, XEN_COMMANDLINE_INFO_LEN);
    case XENVER_build_id:
      return deny ? -EPERM : -ENOSYS;
    default:
      return -ENOSYS;
  }
}

export function doVmAssist(_xen: Xen, v: Vcpu, cmd: number, type: number): number {
  const d = v.domain;
  if (type >= 32 || ((VMASST_VALID_PV32 >>> type) & 1) === 0) return -EINVAL;
  switch (cmd) {
    case VMASST_CMD_enable:
      d.vmAssist |= 1 << type;
      return 0;
    case VMASST_CMD_disable:
      d.vmAssist &= ~(1 << type);
      return 0;
    default:
      return -ENOSYS;
  }
}

/** The vCPU's GuestMemory (every hypercall caller has one). */
export function guestOf(v: Vcpu): GuestMemory {
  const g = v.pv?.guest ?? v.domain.native?.guest;
  if (!g) throw new Error(`${v} has no guest memory`);
  return g;
}

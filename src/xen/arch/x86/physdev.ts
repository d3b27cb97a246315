/**
 * physdev_op (33) and physdev_op_compat (19), the basics a PV kernel uses (Xen's
 * arch/x86/physdev.c): virtual IOPL, the I/O bitmap, IRQ status and EOI. Operations on
 * physical devices, APIC, MSI and PCI are the hardware domain's: -EPERM for others after
 * the argument copy, as Xen's XSM checks come after copy_from_guest.
 *
 * A domU has `NR_PIRQS` pirqs (Xen: static IRQs + extra_domU_pirqs); irq_status_query
 * reports "needs EOI" for each (Xen's conservative answer).
 */
import { EFAULT, EINVAL, ENOSYS, EPERM } from '../../../abi/errno.ts';
import {
  PHYSDEVOP_alloc_irq_vector, PHYSDEVOP_apic_read, PHYSDEVOP_apic_write, PHYSDEVOP_eoi, PHYSDEVOP_free_irq_vector,
  PHYSDEVOP_get_free_pirq, PHYSDEVOP_IRQ_UNMASK_NOTIFY, PHYSDEVOP_irq_status_query, PHYSDEVOP_manage_pci_add,
  PHYSDEVOP_manage_pci_add_ext, PHYSDEVOP_manage_pci_remove, PHYSDEVOP_map_pirq, PHYSDEVOP_pci_device_add,
  PHYSDEVOP_pci_device_remove, PHYSDEVOP_pci_mmcfg_reserved, PHYSDEVOP_pirq_eoi_gmfn_v1, PHYSDEVOP_pirq_eoi_gmfn_v2,
  PHYSDEVOP_restore_msi, PHYSDEVOP_set_iobitmap, PHYSDEVOP_set_iopl, PHYSDEVOP_setup_gsi, PHYSDEVOP_unmap_pirq,
  XENIRQSTAT_needs_eoi, XENIRQSTAT_shared,
} from '../../../abi/physdev.ts';
import type { Xen } from '../../xen.ts';
import type { Vcpu } from '../../common/vcpu.ts';
import { guestOf } from '../../common/kernel.ts';
import { PvGuestMemory } from './pv/pv_guest_memory.ts';

/** pirqs of a domain without devices: 24 IO-APIC pins + 32 extra (Xen's default). */
export const NR_PIRQS = 56;

/** Argument sizes of the hardware-domain-only ops (copied before the privilege check). */
const PRIV_OPS: Readonly<Record<number, number>> = {
  [PHYSDEVOP_apic_read]: 12, [PHYSDEVOP_apic_write]: 12, [PHYSDEVOP_alloc_irq_vector]: 8,
  [PHYSDEVOP_free_irq_vector]: 8, [PHYSDEVOP_map_pirq]: 32, [PHYSDEVOP_unmap_pirq]: 8,
  [PHYSDEVOP_manage_pci_add]: 4, [PHYSDEVOP_manage_pci_remove]: 4, [PHYSDEVOP_manage_pci_add_ext]: 12,
  [PHYSDEVOP_restore_msi]: 4, [PHYSDEVOP_setup_gsi]: 12, [PHYSDEVOP_pci_mmcfg_reserved]: 24,
  [PHYSDEVOP_pci_device_add]: 16, [PHYSDEVOP_pci_device_remove]: 8, [PHYSDEVOP_get_free_pirq]: 8,
  [PHYSDEVOP_pirq_eoi_gmfn_v1]: 4, [PHYSDEVOP_pirq_eoi_gmfn_v2]: 4,
};

export function doPhysdevOp(xen: Xen, v: Vcpu, cmd: number, arg: number): number {
  const mem = guestOf(v);
  switch (cmd) {
    case PHYSDEVOP_IRQ_UNMASK_NOTIFY:
      return 0;
    case PHYSDEVOP_eoi: {
      const a = xen.scratch.readStruct(mem, arg, 4);
      if (a === null) return -EFAULT;
      // -EINVAL unless the domain has that pirq bound (event_channel_pirq.ts).
      return xen.evtchn.pirqs.eoi(v.domain, a.getUint32(0, true));
    }
    case PHYSDEVOP_irq_status_query: {
      const a = xen.scratch.readStruct(mem, arg, 8);
      if (a === null) return -EFAULT;
      const irq = a.getUint32(0, true);
      if (irq >= NR_PIRQS) return -EINVAL;
      // Xen: needs_eoi always (a guest without a pirq_eoi_map must always EOI), shared
      // when another domain has the line bound too.
      a.setUint32(4, XENIRQSTAT_needs_eoi | (xen.evtchn.pirqs.isShared(irq) ? XENIRQSTAT_shared : 0), true);
      return xen.scratch.writeBack(mem, arg, 8) ? 0 : -EFAULT;
    }
    case PHYSDEVOP_set_iopl: {
      const a = xen.scratch.readStruct(mem, arg, 4);
      if (a === null) return -EFAULT;
      const iopl = a.getUint32(0, true);
      if (iopl > 3) return -EINVAL;
      if (v.pv) v.pv.iopl = iopl;
      return 0;
    }
    case PHYSDEVOP_set_iobitmap: {
      const a = xen.scratch.readStruct(mem, arg, 8);
      if (a === null) return -EFAULT;
      const bitmap = a.getUint32(0, true), nr = a.getUint32(4, true);
      if (!PvGuestMemory.ok(bitmap, 8192) || nr > 65536) return -EINVAL;
      if (v.pv) {
        v.pv.iobmpVa = bitmap;
        v.pv.iobmpPorts = nr;
      }
      return 0;
    }
    default: {
      const size = PRIV_OPS[cmd];
      if (size === undefined) return -ENOSYS;
      if (xen.scratch.readStruct(mem, arg, size) === null) return -EFAULT;
      return v.domain.privileged && v.domain.domid === 0 ? -ENOSYS : -EPERM;
    }
  }
}

/** The old form: a pointer to {cmd; union}, run with the argument at pointer + 4. */
export function doPhysdevOpCompat(xen: Xen, v: Vcpu, arg: number): number {
  const cmd = xen.scratch.readU32(guestOf(v), arg);
  if (cmd === null) return -EFAULT;
  switch (cmd) {
    case PHYSDEVOP_IRQ_UNMASK_NOTIFY:
    case PHYSDEVOP_apic_read:
    case PHYSDEVOP_apic_write:
    case PHYSDEVOP_irq_status_query:
    case PHYSDEVOP_set_iopl:
    case PHYSDEVOP_set_iobitmap:
    case PHYSDEVOP_alloc_irq_vector:
      return doPhysdevOp(xen, v, cmd, arg + 4);
    default:
      return -ENOSYS;
  }
}

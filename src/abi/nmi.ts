/**
 * NMI callbacks (nmi.h; C header: xen/nmi.h): XENNMI_* commands of nmi_op (hypercall 28)
 * and the reason bits Xen leaves in arch_shared_info.nmi_reason.
 *
 * Source: shared/abi/hypercalls-x86_32.md §4.2.
 */
import { f, struct, ulong } from './layout.ts';

export * from './gen/nmi.ts';

export const XENNMI_register_callback = 0;
export const XENNMI_unregister_callback = 1;

export const xennmi_callback = struct('xennmi_callback', [
  f('handler_address', ulong, 'NMI handler EIP', 'IN'),
  f('pad', ulong),
], { size: 8 });

/** nmi_reason bit 0: I/O-check error. */
export const _XEN_NMIREASON_io_error = 0;
export const XEN_NMIREASON_io_error = 1 << 0;
/** nmi_reason bit 1: PCI SERR. */
export const _XEN_NMIREASON_pci_serr = 1;
export const XEN_NMIREASON_pci_serr = 1 << 1;
/** Old name of bit 1. */
export const _XEN_NMIREASON_parity_error = 1;
export const XEN_NMIREASON_parity_error = 1 << 1;
/** nmi_reason bit 2: unknown NMI. */
export const _XEN_NMIREASON_unknown = 2;
export const XEN_NMIREASON_unknown = 1 << 2;

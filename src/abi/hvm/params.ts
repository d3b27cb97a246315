/**
 * HVM parameters (hvm/params.h; C header: xen/hvm/params.h): HVM_PARAM_* indices for
 * HVMOP_set_param / HVMOP_get_param and the HVM_PARAM_CALLBACK_IRQ encoding.
 *
 * Invariants:
 * - CALLBACK_IRQ: bits 63:56 are the type, 55:0 the value; value 0 means no delivery.
 *   GSI/PCI-INTx are level lines driven by vCPU 0's evtchn_upcall_pending (HVM ignores the
 *   upcall mask); the vector type is injected directly into any vCPU with
 *   evtchn_upcall_pending set, with no EOI (Linux uses vector 0xF3).
 * - Source: shared/abi/hypercalls-x86_32.md §12.1.
 */
export const HVM_PARAM_CALLBACK_IRQ = 0;
/** GFN of the xenstore ring. */
export const HVM_PARAM_STORE_PFN = 1;
export const HVM_PARAM_STORE_EVTCHN = 2;
/** Toolstack, deprecated. */
export const HVM_PARAM_PAE_ENABLED = 4;
/** Device-model ioreq page. */
export const HVM_PARAM_IOREQ_PFN = 5;
export const HVM_PARAM_BUFIOREQ_PFN = 6;
/** ia64 only (3.x). */
export const HVM_PARAM_NVRAM_FD = 7;
export const HVM_PARAM_VHPT_SIZE = 8;
/** x86: Hyper-V enlightenment mask (was BUFPIOREQ_PFN on ia64). */
export const HVM_PARAM_VIRIDIAN = 9;
/** HVMPTM_* */
export const HVM_PARAM_TIMER_MODE = 10;
export const HVM_PARAM_HPET_ENABLED = 11;
/** EPT identity page table. */
export const HVM_PARAM_IDENT_PT = 12;
/** Device-model domain. */
export const HVM_PARAM_DM_DOMAIN = 13;
export const HVM_PARAM_ACPI_S_STATE = 14;
export const HVM_PARAM_VM86_TSS = 15;
export const HVM_PARAM_VPT_ALIGN = 16;
/** 4.1+: GFN of the PV console ring. */
export const HVM_PARAM_CONSOLE_PFN = 17;
export const HVM_PARAM_CONSOLE_EVTCHN = 18;
/** 0: PM1a at 0x1F40; 1: at 0xB000. */
export const HVM_PARAM_ACPI_IOPORTS_LOCATION = 19;
/** Deprecated memory-event parameters (toolstack only). */
export const HVM_PARAM_MEMORY_EVENT_CR0 = 20;
export const HVM_PARAM_MEMORY_EVENT_CR3 = 21;
export const HVM_PARAM_MEMORY_EVENT_CR4 = 22;
export const HVM_PARAM_MEMORY_EVENT_INT3 = 23;
export const HVM_PARAM_NESTEDHVM = 24;
export const HVM_PARAM_MEMORY_EVENT_SINGLE_STEP = 25;
export const HVM_PARAM_BUFIOREQ_EVTCHN = 26;
export const HVM_PARAM_PAGING_RING_PFN = 27;
export const HVM_PARAM_MONITOR_RING_PFN = 28;
export const HVM_PARAM_SHARING_RING_PFN = 29;
export const HVM_PARAM_MEMORY_EVENT_MSR = 30;
/** SHUTDOWN_* action on a triple fault. */
export const HVM_PARAM_TRIPLE_FAULT_REASON = 31;
export const HVM_PARAM_IOREQ_SERVER_PFN = 32;
export const HVM_PARAM_NR_IOREQ_SERVER_PAGES = 33;
export const HVM_PARAM_VM_GENERATION_ID_ADDR = 34;
export const HVM_PARAM_ALTP2M = 35;
export const HVM_PARAM_X87_FIP_WIDTH = 36;
export const HVM_PARAM_VM86_TSS_SIZED = 37;
export const HVM_PARAM_MCA_CAP = 38;
/** Number of parameters (Xen 4.x); 3.4 had 17. */
export const HVM_NR_PARAMS = 39;

/** HVM_PARAM_CALLBACK_IRQ types (bits 63:56). */
export const HVM_PARAM_CALLBACK_TYPE_GSI = 0;
export const HVM_PARAM_CALLBACK_TYPE_PCI_INTX = 1;
/** 4.1+, needs XENFEAT_hvm_callback_vector. */
export const HVM_PARAM_CALLBACK_TYPE_VECTOR = 2;
export const HVM_PARAM_CALLBACK_IRQ_TYPE_SHIFT = 56;
export const HVM_PARAM_CALLBACK_IRQ_TYPE_MASK = 0xFF00000000000000n;

/** HVM_PARAM_TIMER_MODE values. */
export const HVMPTM_delay_for_missed_ticks = 0;
export const HVMPTM_no_delay_for_missed_ticks = 1;
export const HVMPTM_no_missed_ticks_pending = 2;
export const HVMPTM_one_missed_tick_pending = 3;

/** A decoded HVM_PARAM_CALLBACK_IRQ value. */
export type HvmCallback =
  | { readonly type: 'none' }
  | { readonly type: 'gsi'; readonly gsi: number }
  | { readonly type: 'pci_intx'; readonly domain: number; readonly bus: number; readonly devfn: number; readonly intx: number }
  | { readonly type: 'vector'; readonly vector: number }
  | { readonly type: 'unknown'; readonly raw: bigint };

/** Decode an HVM_PARAM_CALLBACK_IRQ value (0 = no delivery; an unknown type is reported, not thrown). */
export function decodeHvmCallback(value: bigint): HvmCallback {
  const v = BigInt.asUintN(64, value);
  if (v === 0n) return { type: 'none' };
  const type = Number(v >> 56n);
  const low = v & 0x00FFFFFFFFFFFFFFn;
  switch (type) {
    case HVM_PARAM_CALLBACK_TYPE_GSI: return { type: 'gsi', gsi: Number(low & 0xFFFFFFFFn) };
    case HVM_PARAM_CALLBACK_TYPE_PCI_INTX:
      return {
        type: 'pci_intx', domain: Number((low >> 32n) & 0xFFFFn), bus: Number((low >> 16n) & 0xFFFFn),
        devfn: Number((low >> 8n) & 0xFFn), intx: Number(low & 3n),
      };
    case HVM_PARAM_CALLBACK_TYPE_VECTOR: return { type: 'vector', vector: Number(low & 0xFFn) };
    default: return { type: 'unknown', raw: v };
  }
}

/** Encode a callback (inverse of decodeHvmCallback for the known types). */
export function encodeHvmCallback(cb: HvmCallback): bigint {
  switch (cb.type) {
    case 'none': return 0n;
    case 'gsi': return BigInt(cb.gsi >>> 0);
    case 'pci_intx':
      return (1n << 56n) | (BigInt(cb.domain & 0xFFFF) << 32n) | (BigInt(cb.bus & 0xFFFF) << 16n)
        | (BigInt(cb.devfn & 0xFF) << 8n) | BigInt(cb.intx & 3);
    case 'vector': return (2n << 56n) | BigInt(cb.vector & 0xFF);
    case 'unknown': return cb.raw;
  }
}

/**
 * Which src/abi modules make which C header in guests/include/xen, in include order.
 *
 * Invariants:
 * - Every module of src/abi with ABI content appears exactly once: either in a C header or
 *   in TS_ONLY (modules whose content only TypeScript uses, e.g. the dom0 ⇄ hypervisor
 *   control interface). Both kinds get their offset constants generated into src/abi/gen.
 * - A header lists its modules in the order their content is emitted; `pre`/`post` name C
 *   fragments in tools/abi/c (function-like macros TypeScript cannot express as data) that
 *   go after the includes / before the static asserts.
 * - `prefix` renames every #define of the header (errno.h: EPERM → XEN_EPERM, as Xen does).
 */
export interface HeaderSpec {
  /** Path under guests/include/xen. */
  readonly c: string;
  /** Modules under src/abi, emitted in this order. */
  readonly modules: readonly string[];
  readonly pre?: string;
  readonly post?: string;
  /** Headers (paths under guests/include/xen) the fragments need besides the type deps. */
  readonly includes?: readonly string[];
  readonly prefix?: string;
  readonly doc: string;
}

export const HEADERS: readonly HeaderSpec[] = [
  { c: 'arch-x86_32.h', modules: ['arch_x86_32.ts'], pre: 'arch-x86_32.pre.h', post: 'arch-x86_32.post.h',
    doc: 'x86_32 (PAE) architecture part of the ABI: word types, hypervisor hole, flat selectors, register frames.' },
  { c: 'xen.h', modules: ['xen.ts'],
    doc: 'Core ABI: hypercall numbers, VIRQs, mmu_update/mmuext_op, shared_info, vcpu_info, start_info.' },
  { c: 'errno.h', modules: ['errno.ts'], prefix: 'XEN_',
    doc: 'Xen error numbers; hypercalls return -XEN_E*.' },
  { c: 'features.h', modules: ['features.ts'], doc: 'XENFEAT_* bit numbers (XENVER_get_features submap 0).' },
  { c: 'version.h', modules: ['version.ts'], doc: 'xen_version (hypercall 17) commands and results.' },
  { c: 'elfnote.h', modules: ['elfnote.ts'], doc: 'Xen ELF note types and loader strings.' },
  { c: 'event_channel.h', modules: ['event_channel.ts'], doc: 'event_channel_op (hypercall 32) and the FIFO ABI.' },
  { c: 'grant_table.h', modules: ['grant_table.ts'], doc: 'grant_table_op (hypercall 20), grant entries and flags.' },
  { c: 'memory.h', modules: ['memory.ts'], post: 'memory.post.h', doc: 'memory_op (hypercall 12).' },
  { c: 'sched.h', modules: ['sched.ts'], doc: 'sched_op (hypercall 29) and sched_op_compat (6).' },
  { c: 'vcpu.h', modules: ['vcpu.ts'], post: 'vcpu.post.h', doc: 'vcpu_op (hypercall 24).' },
  { c: 'callback.h', modules: ['callback.ts'], doc: 'callback_op (hypercall 30).' },
  { c: 'nmi.h', modules: ['nmi.ts'], doc: 'nmi_op (hypercall 28).' },
  { c: 'physdev.h', modules: ['physdev.ts'], doc: 'physdev_op (hypercall 33) and physdev_op_compat (19).' },
  { c: 'arch-x86/cpuid.h', modules: ['arch_x86/cpuid.ts'], post: 'arch-x86/cpuid.post.h', doc: 'Xen CPUID leaves and the hypercall-page MSR.' },
  { c: 'arch-x86/hvm/start_info.h', modules: ['hvm/start_info.ts'], doc: 'PVH start of day (hvm_start_info).' },
  { c: 'hvm/params.h', modules: ['hvm/params.ts'], doc: 'HVM_PARAM_* indices and the callback-IRQ encoding.' },
  { c: 'hvm/hvm_op.h', modules: ['hvm/hvm_op.ts'], doc: 'hvm_op (hypercall 34).' },
  { c: 'hvm/e820.h', modules: ['hvm/e820.ts'], doc: 'HVM memory map and the e820 entry.' },
  { c: 'hvm/hvm_info_table.h', modules: ['hvm/hvm_info_table.ts'], doc: 'The HVM info table handed to the firmware.' },
  { c: 'hvm/platform_pci.h', modules: ['hvm/platform_pci.ts'], doc: 'Xen platform PCI device and the emulated-device unplug ports.' },
  { c: 'io/ring.h', modules: ['io/ring.ts'], post: 'io/ring.post.h', doc: 'Shared I/O ring types and macros.' },
  { c: 'io/console.h', modules: ['io/console.ts'], post: 'io/console.post.h', doc: 'The PV console ring page.' },
  { c: 'io/protocols.h', modules: ['io/protocols.ts'], doc: 'Ring ABI names for the frontend protocol key.' },
  { c: 'io/xenbus.h', modules: ['io/xenbus.ts'], doc: 'Xenbus device states.' },
  { c: 'io/blkif.h', modules: ['io/blkif.ts'], doc: 'Block device ring protocol.' },
  { c: 'io/netif.h', modules: ['io/netif.ts'], doc: 'Network device ring protocol.' },
  { c: 'io/xs_wire.h', modules: ['io/xs_wire.ts'], post: 'io/xs_wire.post.h', includes: ['errno.h'],
    doc: 'XenStore wire protocol and ring page.' },
  { c: 'io/xs_paths.h', modules: ['io/xs_paths.ts'], doc: 'Standard XenStore paths, keys and values.' },
];

/** Modules with no C header (TypeScript-only ABI: the dom0 <-> hypervisor control interface). */
export const TS_ONLY: readonly string[] = ['domctl.ts', 'sysctl.ts', 'platform.ts', 'pv_boot.ts', 'control_wire.ts'];

/**
 * Modules owned by other areas that name their offsets by hand (no src/abi/gen module):
 * io/xs_wire.ts belongs to the xenstored engineer.
 */
export const NO_GEN_OFFSETS: ReadonlySet<string> = new Set(['io/xs_wire.ts']);

/** Modules of src/abi that are infrastructure or aliases, not ABI content (xs_wire.ts re-exports io/xs_wire.ts). */
export const NOT_ABI: ReadonlySet<string> = new Set(['layout.ts', 'types.ts', 'xs_wire.ts']);

/**
 * ELF notes of Xen guest kernels (elfnote.h; C header: xen/elfnote.h) and the loader's
 * string conventions, including the legacy `__xen_guest` section.
 *
 * Invariants:
 * - Notes have name "Xen" (namesz 4) and live in a PT_NOTE segment (fallback: SHT_NOTE
 *   sections); numeric descs are 1, 2, 4 or 8 bytes, strings are NUL-terminated.
 * - The loader accepts a kernel if LOADER starts with "generic" or GUEST_OS starts with
 *   "linux", and XEN_VERSION starts with "xen-3.0".
 * - The legacy `__xen_guest` string is only consulted when no Xen notes exist (PV only).
 * - Source: shared/abi/hypercalls-x86_32.md §11.
 */
/** Free-form NAME=VALUE string (ignored). */
export const XEN_ELFNOTE_INFO = 0;
/** Entry VA (default: ELF e_entry). */
export const XEN_ELFNOTE_ENTRY = 1;
/** VA of the hypercall page Xen fills. */
export const XEN_ELFNOTE_HYPERCALL_PAGE = 2;
/** VA where the image's PFN 0 lives (default 0). */
export const XEN_ELFNOTE_VIRT_BASE = 3;
/** load VA = p_paddr + (VIRT_BASE - PADDR_OFFSET); default 0 with notes. */
export const XEN_ELFNOTE_PADDR_OFFSET = 4;
/** String; must start with "xen-3.0". */
export const XEN_ELFNOTE_XEN_VERSION = 5;
/** String, e.g. "linux", "Mini-OS". */
export const XEN_ELFNOTE_GUEST_OS = 6;
export const XEN_ELFNOTE_GUEST_VERSION = 7;
/** String: "generic" (required unless GUEST_OS starts with "linux"). */
export const XEN_ELFNOTE_LOADER = 8;
/** String: "yes" (PAE with extended-cr3), "no", "bimodal", "yes,bimodal". */
export const XEN_ELFNOTE_PAE_MODE = 9;
/** String: XENFEAT names joined by '|', '!' prefix = required. */
export const XEN_ELFNOTE_FEATURES = 10;
/** String "yes": load the symbol table after the image. */
export const XEN_ELFNOTE_BSD_SYMTAB = 11;
/** Lowest acceptable hypervisor-hole start (32-on-64). */
export const XEN_ELFNOTE_HV_START_LOW = 12;
/** Mask/value pairs: non-present L1 entries that still hold MFNs. */
export const XEN_ELFNOTE_L1_MFN_VALID = 13;
/** Supports cooperative suspend cancel. */
export const XEN_ELFNOTE_SUSPEND_CANCEL = 14;
/** VA for the p2m outside the initial map (64-bit only). */
export const XEN_ELFNOTE_INIT_P2M = 15;
/** Accepts an unmapped initrd (SIF_MOD_START_PFN). */
export const XEN_ELFNOTE_MOD_START_PFN = 16;
/** u32 XENFEAT bitmap OR-ed with FEATURES. */
export const XEN_ELFNOTE_SUPPORTED_FEATURES = 17;
/** PVH 32-bit physical entry point. */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
/** PVH relocation: up to 3 u32 (align, min, max). */
export const XEN_ELFNOTE_PHYS32_RELOC = 19;
export const XEN_ELFNOTE_MAX = XEN_ELFNOTE_PHYS32_RELOC;
export const XEN_ELFNOTE_CRASH_INFO = 0x1000001;
export const XEN_ELFNOTE_CRASH_REGS = 0x1000002;
export const XEN_ELFNOTE_DUMPCORE_NONE = 0x2000000;
export const XEN_ELFNOTE_DUMPCORE_HEADER = 0x2000001;
export const XEN_ELFNOTE_DUMPCORE_XEN_VERSION = 0x2000002;
export const XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION = 0x2000003;

/** The note name ("Xen", namesz 4 with its NUL). */
export const XEN_ELFNOTE_NAME = 'Xen';
/** Required prefix of the XEN_VERSION note / XEN_VER key. */
export const XEN_ELFNOTE_XEN_VERSION_PREFIX = 'xen-3.0';
/** LOADER value (prefix) the loader accepts. */
export const XEN_ELFNOTE_LOADER_GENERIC = 'generic';
/** GUEST_OS prefix that waives the LOADER requirement. */
export const XEN_ELFNOTE_GUEST_OS_LINUX = 'linux';

/** Name of the legacy guest-info section (one NUL-terminated "KEY=VALUE,..." string). */
export const XEN_GUEST_SECTION = '__xen_guest';
/** Keys of the legacy string: keys <= 31 chars, values <= 127. @tsonly */
export const XEN_GUEST_KEYS: readonly string[] = [
  'GUEST_OS', 'GUEST_VER', 'XEN_VER', 'LOADER', 'VIRT_BASE', 'VIRT_ENTRY', 'ELF_PADDR_OFFSET',
  'HYPERCALL_PAGE', 'PAE', 'BSD_SYMTAB', 'FEATURES',
];
/** Longest key and value of the legacy string. */
export const XEN_GUEST_KEY_MAX = 31;
export const XEN_GUEST_VALUE_MAX = 127;

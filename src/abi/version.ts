/**
 * Version and feature queries (version.h; C header: xen/version.h): XENVER_* commands of
 * xen_version (hypercall 17: EBX = cmd, ECX = argument).
 *
 * Invariants:
 * - XENVER_version (arg NULL) returns (major << 16) | minor; XENVER_pagesize (arg must be
 *   NULL) returns 4096; the *2 commands (10-14) return a length; the rest return 0.
 * - XENVER_get_features with submap_idx != 0 returns -EINVAL (one 32-bit submap exists).
 * - Source: shared/abi/hypercalls-x86_32.md §5.5.
 */
import { xen_ulong_t } from './arch_x86_32.ts';
import { arr, arrayAlias, char, f, struct, u32, uint } from './layout.ts';

export * from './gen/version.ts';

export const XENVER_version = 0;
export const XENVER_extraversion = 1;
export const XENVER_compile_info = 2;
export const XENVER_capabilities = 3;
export const XENVER_changeset = 4;
export const XENVER_platform_parameters = 5;
export const XENVER_get_features = 6;
export const XENVER_pagesize = 7;
/** 3.0.4+: the domain's 16-byte handle (UUID). */
export const XENVER_guest_handle = 8;
export const XENVER_commandline = 9;
/** 4.x: xen_varbuf results. */
export const XENVER_build_id = 10;
export const XENVER_extraversion2 = 11;
export const XENVER_capabilities2 = 12;
export const XENVER_changeset2 = 13;
export const XENVER_commandline2 = 14;

export const XEN_EXTRAVERSION_LEN = 16;
export const XEN_CAPABILITIES_INFO_LEN = 1024;
export const XEN_CHANGESET_INFO_LEN = 64;
export const XEN_COMMANDLINE_INFO_LEN = 1024;

/** Capability tokens (XENVER_capabilities is a space-separated list of them). */
export const XEN_CAP_PV_X86_32P = 'xen-3.0-x86_32p';
export const XEN_CAP_HVM_X86_32 = 'hvm-3.0-x86_32';
export const XEN_CAP_HVM_X86_32P = 'hvm-3.0-x86_32p';

export const xen_extraversion_t = arrayAlias('xen_extraversion_t', char, XEN_EXTRAVERSION_LEN);
export const xen_capabilities_info_t = arrayAlias('xen_capabilities_info_t', char, XEN_CAPABILITIES_INFO_LEN);
export const xen_changeset_info_t = arrayAlias('xen_changeset_info_t', char, XEN_CHANGESET_INFO_LEN);
export const xen_commandline_t = arrayAlias('xen_commandline_t', char, XEN_COMMANDLINE_INFO_LEN);

export const xen_compile_info = struct('xen_compile_info', [
  arr('compiler', char, 64),
  arr('compile_by', char, 16),
  arr('compile_domain', char, 32),
  arr('compile_date', char, 32),
], { size: 144 });

export const xen_platform_parameters = struct('xen_platform_parameters', [
  f('virt_start', xen_ulong_t, 'HYPERVISOR_VIRT_START', 'OUT'),
], { size: 4 });

export const xen_feature_info = struct('xen_feature_info', [
  f('submap_idx', uint, 'which 32-bit submap (only 0)', 'IN'),
  f('submap', u32, 'XENFEAT_* bits', 'OUT'),
], { size: 8 });

export const xen_varbuf = struct('xen_varbuf', [
  f('len', u32, 'IN: buffer size; OUT: bytes written', 'IN/OUT'),
  arr('buf', char, 0, 'the text, not NUL-terminated', 'OUT'),
], { size: 4 });

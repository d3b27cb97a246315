/**
 * Platform operations (platform.h): dom0's control of the physical platform (hypercall 7,
 * formerly dom0_op). TypeScript only — no C header.
 *
 * Command numbers are Xen's; payloads are our own TypeScript shapes (dom0 is native).
 * Only dom0 may issue them (-EPERM otherwise).
 */

/** Interface version Xen checks (unchanged since 3.x). */
export const XENPF_INTERFACE_VERSION = 0x03000001;

/** Set the wall clock (32-bit seconds). */
export const XENPF_settime32 = 17;
export const XENPF_settime = XENPF_settime32;
export const XENPF_add_memtype = 31;
export const XENPF_del_memtype = 32;
export const XENPF_read_memtype = 33;
export const XENPF_microcode_update = 35;
export const XENPF_platform_quirk = 39;
export const XENPF_firmware_info = 50;
export const XENPF_enter_acpi_sleep = 51;
export const XENPF_change_freq = 52;
export const XENPF_getidletime = 53;
export const XENPF_set_processor_pminfo = 54;
export const XENPF_get_cpuinfo = 55;
export const XENPF_cpu_online = 56;
export const XENPF_cpu_offline = 57;
export const XENPF_cpu_hotadd = 58;
export const XENPF_mem_hotadd = 59;
export const XENPF_core_parking = 60;
export const XENPF_resource_op = 61;
/** Set the wall clock (64-bit seconds). */
export const XENPF_settime64 = 62;
export const XENPF_get_symbol = 63;

/**
 * XENPF_settime*: the wall-clock time (UTC) that corresponds to Xen system time
 * `system_time`; Xen rewrites every domain's wc_sec/wc_nsec from it.
 */
export interface xenpf_settime {
  secs: bigint;
  nsecs: number;
  system_time: bigint;
}

export type XenPlatformOp =
  | { cmd: typeof XENPF_settime32 | typeof XENPF_settime64; u: xenpf_settime };

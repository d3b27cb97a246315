/**
 * The Xen platform PCI device and the emulated-device unplug protocol (no Xen public
 * header: QEMU's xen_platform and Linux's platform_pci.h; C header: xen/hvm/platform_pci.h).
 * A PVHVM guest finds Xen through this device and unplugs the emulated disks/NICs before
 * its PV drivers take over.
 *
 * Unplug handshake (I/O ports 0x10-0x1F): read u16 0x10 → must be XEN_IOPORT_MAGIC_VAL;
 * read u8 0x12 → protocol version; if >= 1 write u16 product to 0x12 and u32 build to 0x10,
 * re-read u16 0x10 (XEN_IOPORT_MAGIC_BLACKLISTED = stop); then write the u16 unplug mask
 * to 0x10 before the OS probes disks and NICs.
 *
 * Invariant: BAR1 is address space the guest donates for Xen mappings (grant frames,
 * shared_info); accesses to it do nothing.
 * Source: shared/abi/hypercalls-x86_32.md §12.2-12.4.
 */
export const XEN_PLATFORM_VENDOR_ID = 0x5853;
export const XEN_PLATFORM_DEVICE_ID = 0x0001;
/** XenServer 6.1 variant. */
export const XEN_PLATFORM_DEVICE_ID_XS61 = 0x0002;
export const XEN_PLATFORM_SUBSYS_VENDOR_ID = 0x5853;
export const XEN_PLATFORM_SUBSYS_ID = 0x0001;
export const XEN_PLATFORM_REVISION = 1;
/** Class 0xFF (unclassified), subclass 0x80, prog-if 0. */
export const XEN_PLATFORM_CLASS_CODE = 0xFF80;
/** INTA#. */
export const XEN_PLATFORM_INTERRUPT_PIN = 1;
/** BAR0: I/O space. */
export const XEN_PLATFORM_BAR0_SIZE = 256;
/** BAR0 + 0: platform flags (bit 0: ROM lock, 0xC0000-0xFFFFF read-only). */
export const XEN_PLATFORM_BAR0_FLAGS = 0;
/** BAR0 + 8: log byte sink. */
export const XEN_PLATFORM_BAR0_LOG = 8;
export const XEN_PLATFORM_FLAG_ROM_LOCK = 1 << 0;
/** BAR1: 16 MiB prefetchable memory. */
export const XEN_PLATFORM_BAR1_SIZE = 0x1000000;
/** FreeBSD's probe id: device << 16 | vendor. */
export const XEN_PLATFORM_FREEBSD_ID = 0x00015853;

export const XEN_IOPORT_BASE = 0x10;
/** u8 read/write at BASE: platform flags. */
export const XEN_IOPORT_PLATFLAGS = 0x10;
/** u16 read at BASE: magic. */
export const XEN_IOPORT_MAGIC = 0x10;
/** u16 write at BASE: unplug mask. */
export const XEN_IOPORT_UNPLUG = 0x10;
/** u32 write at BASE: driver build number. */
export const XEN_IOPORT_DRVVER = 0x10;
/** u8 write at BASE + 2: log character. */
export const XEN_IOPORT_SYSLOG = 0x12;
/** u8 read at BASE + 2: protocol version. */
export const XEN_IOPORT_PROTOVER = 0x12;
/** u16 write at BASE + 2: product number. */
export const XEN_IOPORT_PRODNUM = 0x12;
export const XEN_IOPORT_NR_PORTS = 16;

export const XEN_IOPORT_MAGIC_VAL = 0x49D2;
/** What the magic port reads after a blacklisted driver version was written. */
export const XEN_IOPORT_MAGIC_BLACKLISTED = 0xD249;
export const XEN_IOPORT_PROTOVER_VAL = 1;
export const XEN_IOPORT_XENSOURCE_WINDOWS_PRODNUM = 1;
export const XEN_IOPORT_GPLPV_WINDOWS_PRODNUM = 2;
export const XEN_IOPORT_LINUX_PRODNUM = 3;
export const XEN_IOPORT_XENSERVER_WINDOWS_PRODNUM = 4;
export const XEN_IOPORT_XENSERVER_WINDOWS2_PRODNUM = 5;
export const XEN_IOPORT_EXPERIMENTAL_PRODNUM = 0xFFFF;
export const XEN_IOPORT_LINUX_DRVVER = 1;

/** Unplug mask bits. */
export const XEN_UNPLUG_ALL_IDE_DISKS = 1;
export const XEN_UNPLUG_ALL_NICS = 2;
/** All IDE disks except the primary master. */
export const XEN_UNPLUG_AUX_IDE_DISKS = 4;
/** Later QEMU. */
export const XEN_UNPLUG_NVME_DISKS = 8;
export const XEN_UNPLUG_ALL = XEN_UNPLUG_ALL_IDE_DISKS | XEN_UNPLUG_ALL_NICS | XEN_UNPLUG_AUX_IDE_DISKS;

/** Vector Linux uses for HVM_PARAM_CALLBACK_TYPE_VECTOR (HYPERVISOR_CALLBACK_VECTOR). */
export const XEN_LINUX_HVM_CALLBACK_VECTOR = 0xF3;

/**
 * The standard XenStore tree: paths, special watch names, key names and well-known values
 * that the toolstack, xenstored, backends and guests agree on (no Xen header defines them;
 * they come from docs/misc/xenstore-paths and the drivers; C header: xen/io/xs_paths.h).
 *
 *   /local/domain/<id>                          a domain's home ("~")
 *   ~/device/<type>/<devid>/...                 frontend dir (perms n<front>, r<back>)
 *   /local/domain/<b>/backend/<type>/<f>/<devid>/...   backend dir (perms n<back>, r<front>)
 *   /vm/<uuid>/...                              toolstack data, not guest visible
 *
 * Invariants:
 * - Values are text; numbers are decimal unless a key says otherwise (physical-device is
 *   "major:minor" in hex, mac is "aa:bb:cc:dd:ee:ff").
 * - ~/store/ring-ref and ~/console/ring-ref hold frame numbers (MFN for PV, GFN for HVM),
 *   not grant refs; device ring-ref keys hold grant refs.
 * - ~/memory/target is in KiB.
 * - Source: shared/abi/xenstore.md §5, §9; pv-devices.md §2-5.
 */

// ---- Roots and special watches ---------------------------------------------------------

export const XS_PATH_LOCAL_DOMAIN = '/local/domain';
export const XS_PATH_VM = '/vm';
export const XS_PATH_TOOL_XENSTORED = '/tool/xenstored';
/** Fired after a successful XS_INTRODUCE. */
export const XS_SPECIAL_INTRODUCE_DOMAIN = '@introduceDomain';
/** Fired when a domain shuts down, crashes, dies or is released. */
export const XS_SPECIAL_RELEASE_DOMAIN = '@releaseDomain';
/** dom0's ~/name. */
export const XS_DOM0_NAME = 'Domain-0';

// ---- Keys under a domain's home ------------------------------------------------------------

export const XS_KEY_NAME = 'name';
export const XS_KEY_DOMID = 'domid';
export const XS_KEY_VM = 'vm';
/** Balloon target, KiB; the guest watches it. */
export const XS_KEY_MEMORY_TARGET = 'memory/target';
export const XS_KEY_MEMORY_STATIC_MAX = 'memory/static-max';
export const XS_KEY_MEMORY_VIDEORAM = 'memory/videoram';
/** Frame of the xenstore ring (deprecated; decimal). */
export const XS_KEY_STORE_RING_REF = 'store/ring-ref';
export const XS_KEY_STORE_PORT = 'store/port';
/** Frame of the first console ring (not a grant ref). */
export const XS_KEY_CONSOLE_RING_REF = 'console/ring-ref';
export const XS_KEY_CONSOLE_PORT = 'console/port';
/** Console output buffer limit in bytes. */
export const XS_KEY_CONSOLE_LIMIT = 'console/limit';
/** "xenconsoled" or "ioemu". */
export const XS_KEY_CONSOLE_TYPE = 'console/type';
/** Written by the console backend: the pty path. */
export const XS_KEY_CONSOLE_TTY = 'console/tty';
/** "" / poweroff / reboot / suspend / halt; the guest clears it to "". */
export const XS_KEY_CONTROL_SHUTDOWN = 'control/shutdown';
export const XS_KEY_CONTROL_SYSRQ = 'control/sysrq';
export const XS_KEY_CONTROL_FEATURE_POWEROFF = 'control/feature-poweroff';
export const XS_KEY_CONTROL_FEATURE_REBOOT = 'control/feature-reboot';
export const XS_KEY_CONTROL_FEATURE_SUSPEND = 'control/feature-suspend';
export const XS_KEY_CONTROL_MP_SUSPEND = 'control/platform-feature-multiprocessor-suspend';
/** 1 when the store supports XS_RESET_WATCHES (Xen 4.2+). */
export const XS_KEY_CONTROL_XS_RESET_WATCHES = 'control/platform-feature-xs_reset_watches';
export const XS_KEY_DEVICE = 'device';
export const XS_KEY_BACKEND = 'backend';
export const XS_KEY_ERROR = 'error';
export const XS_KEY_SUSPEND_EVTCHN = 'device/suspend/event-channel';

/** Shutdown requests a guest recognises in control/shutdown. */
export const XS_SHUTDOWN_POWEROFF = 'poweroff';
export const XS_SHUTDOWN_REBOOT = 'reboot';
export const XS_SHUTDOWN_SUSPEND = 'suspend';
export const XS_SHUTDOWN_HALT = 'halt';
export const XS_CONSOLE_TYPE_XENCONSOLED = 'xenconsoled';
export const XS_CONSOLE_TYPE_IOEMU = 'ioemu';
/** Default console/limit (1 MiB). */
export const XS_CONSOLE_LIMIT_DEFAULT = 1048576;
/** ~/cpu/<n>/availability values. */
export const XS_CPU_ONLINE = 'online';
export const XS_CPU_OFFLINE = 'offline';

// ---- Device directories ---------------------------------------------------------------------

export const XS_DEVTYPE_VBD = 'vbd';
export const XS_DEVTYPE_VIF = 'vif';
export const XS_DEVTYPE_CONSOLE = 'console';
export const XS_DEVTYPE_VFB = 'vfb';
export const XS_DEVTYPE_VKBD = 'vkbd';
export const XS_DEVTYPE_PCI = 'pci';
export const XS_DEVTYPE_VTPM = 'vtpm';
export const XS_DEVTYPE_VSCSI = 'vscsi';
export const XS_DEVTYPE_VUSB = 'vusb';
/** Block backend types besides vbd. */
export const XS_DEVTYPE_QDISK = 'qdisk';
export const XS_DEVTYPE_TAP = 'tap';

/** Common to both ends. */
export const XS_KEY_STATE = 'state';
export const XS_KEY_BACKEND_ID = 'backend-id';
export const XS_KEY_FRONTEND = 'frontend';
export const XS_KEY_FRONTEND_ID = 'frontend-id';
export const XS_KEY_ONLINE = 'online';
export const XS_KEY_HOTPLUG_STATUS = 'hotplug-status';
export const XS_HOTPLUG_CONNECTED = 'connected';
export const XS_HOTPLUG_ERROR = 'error';
export const XS_KEY_RING_REF = 'ring-ref';
export const XS_KEY_RING_PAGE_ORDER = 'ring-page-order';
export const XS_KEY_NUM_RING_PAGES = 'num-ring-pages';
export const XS_KEY_MAX_RING_PAGE_ORDER = 'max-ring-page-order';
export const XS_KEY_MAX_RING_PAGES = 'max-ring-pages';
export const XS_KEY_EVENT_CHANNEL = 'event-channel';
/** Ring ABI of the frontend (XEN_IO_PROTO_ABI_*). */
export const XS_KEY_PROTOCOL = 'protocol';
export const XS_KEY_MULTI_QUEUE_MAX_QUEUES = 'multi-queue-max-queues';
export const XS_KEY_MULTI_QUEUE_NUM_QUEUES = 'multi-queue-num-queues';

/** Block devices. */
export const XS_KEY_VIRTUAL_DEVICE = 'virtual-device';
export const XS_KEY_DEVICE_TYPE = 'device-type';
export const XS_KEY_PARAMS = 'params';
export const XS_KEY_TYPE = 'type';
/** "r" or "w". */
export const XS_KEY_MODE = 'mode';
export const XS_KEY_DEV = 'dev';
export const XS_KEY_REMOVABLE = 'removable';
export const XS_KEY_BOOTABLE = 'bootable';
/** "major:minor" in hex, written by the hotplug script. */
export const XS_KEY_PHYSICAL_DEVICE = 'physical-device';
/** Size in 512-byte sectors. */
export const XS_KEY_SECTORS = 'sectors';
/** VDISK_* bitmap. */
export const XS_KEY_INFO = 'info';
export const XS_KEY_SECTOR_SIZE = 'sector-size';
export const XS_KEY_PHYSICAL_SECTOR_SIZE = 'physical-sector-size';
export const XS_KEY_FEATURE_BARRIER = 'feature-barrier';
export const XS_KEY_FEATURE_FLUSH_CACHE = 'feature-flush-cache';
export const XS_KEY_FEATURE_DISCARD = 'feature-discard';
export const XS_KEY_DISCARD_GRANULARITY = 'discard-granularity';
export const XS_KEY_DISCARD_ALIGNMENT = 'discard-alignment';
export const XS_KEY_DISCARD_SECURE = 'discard-secure';
export const XS_KEY_FEATURE_PERSISTENT = 'feature-persistent';
export const XS_KEY_FEATURE_MAX_INDIRECT_SEGMENTS = 'feature-max-indirect-segments';
export const XS_DEVICE_TYPE_DISK = 'disk';
export const XS_DEVICE_TYPE_CDROM = 'cdrom';
export const XS_DEVICE_TYPE_FLOPPY = 'floppy';

/** Network devices. */
export const XS_KEY_MAC = 'mac';
export const XS_KEY_HANDLE = 'handle';
export const XS_KEY_BRIDGE = 'bridge';
export const XS_KEY_SCRIPT = 'script';
export const XS_KEY_TX_RING_REF = 'tx-ring-ref';
export const XS_KEY_RX_RING_REF = 'rx-ring-ref';
export const XS_KEY_EVENT_CHANNEL_TX = 'event-channel-tx';
export const XS_KEY_EVENT_CHANNEL_RX = 'event-channel-rx';
export const XS_KEY_REQUEST_RX_COPY = 'request-rx-copy';
export const XS_KEY_FEATURE_RX_NOTIFY = 'feature-rx-notify';
export const XS_KEY_FEATURE_SG = 'feature-sg';
export const XS_KEY_FEATURE_GSO_TCPV4 = 'feature-gso-tcpv4';
export const XS_KEY_FEATURE_GSO_TCPV6 = 'feature-gso-tcpv6';
export const XS_KEY_FEATURE_NO_CSUM_OFFLOAD = 'feature-no-csum-offload';
export const XS_KEY_FEATURE_IPV6_CSUM_OFFLOAD = 'feature-ipv6-csum-offload';
export const XS_KEY_FEATURE_RX_COPY = 'feature-rx-copy';
/** Absent is read as 1 by frontends. */
export const XS_KEY_FEATURE_RX_FLIP = 'feature-rx-flip';
export const XS_KEY_FEATURE_MULTICAST_CONTROL = 'feature-multicast-control';
export const XS_KEY_FEATURE_SPLIT_EVENT_CHANNELS = 'feature-split-event-channels';
export const XS_KEY_MTU = 'mtu';

// ---- Virtual device numbers (vbd virtual-device) ----------------------------------------------

/** xvd: 202 << 8 | disk << 4 | part (disk, part <= 15); xvda = 51712. */
export const XEN_VBD_MAJOR_XVD = 202;
/** Extended xvd: 1 << 28 | disk << 8 | part. */
export const XEN_VBD_EXTENDED = 1 << 28;
/** sd: 8 << 8 | disk << 4 | part. */
export const XEN_VBD_MAJOR_SD = 8;
/** hd0-1: 3 << 8 | disk << 6 | part. */
export const XEN_VBD_MAJOR_HDA = 3;
/** hd2-3: 22 << 8 | (disk - 2) << 6 | part. */
export const XEN_VBD_MAJOR_HDC = 22;

/** virtual-device number of xvd disk `disk`, partition `part` (0 = whole disk). */
export function xvdDevice(disk: number, part = 0): number {
  return disk <= 15 && part <= 15 ? (XEN_VBD_MAJOR_XVD << 8) | (disk << 4) | part : (XEN_VBD_EXTENDED | (disk << 8) | part) >>> 0;
}

// ---- Path builders (TypeScript only) ------------------------------------------------------------

/** `/local/domain/<domid>`. */
export function domainPath(domid: number): string {
  return `${XS_PATH_LOCAL_DOMAIN}/${domid}`;
}

/** Frontend dir `/local/domain/<front>/device/<type>/<devid>`. */
export function frontendPath(front: number, type: string, devid: number): string {
  return `${domainPath(front)}/${XS_KEY_DEVICE}/${type}/${devid}`;
}

/** Backend dir `/local/domain/<back>/backend/<type>/<front>/<devid>`. */
export function backendPath(back: number, type: string, front: number, devid: number): string {
  return `${domainPath(back)}/${XS_KEY_BACKEND}/${type}/${front}/${devid}`;
}

/** `/vm/<uuid>`. */
export function vmPath(uuid: string): string {
  return `${XS_PATH_VM}/${uuid}`;
}

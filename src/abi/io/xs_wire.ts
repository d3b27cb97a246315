/**
 * Xen's public/io/xs_wire.h: the XenStore wire protocol and the xenstore ring page.
 *
 * Written from shared/abi/xenstore.md (Xen 3.x, with the 4.x additions marked). Everything
 * a guest, xenstored or a host tool exchanges is here with Xen's exact spelling; the daemon
 * (src/dom0/xenstored) and the tests take their numbers from this file only.
 *
 * Invariants:
 * - All integers on the wire and in the ring page are little-endian uint32.
 * - A message is the 16-byte `struct xsd_sockmsg` header followed by `len` payload bytes,
 *   `len <= XENSTORE_PAYLOAD_MAX`.
 * - XSD_ERRORS keeps Xen's table order: the index is part of the ABI (clients search it by
 *   name, C code by index), and entry 0 (EINVAL) is the fallback for any errno not listed.
 */

import { alias, arr, cEnum, char, f, struct, u32 } from '../layout.ts';

// ---- enum xsd_sockmsg_type -------------------------------------------------------------

/** XS_CONTROL was called XS_DEBUG before Xen 4.7; both names denote type 0. */
export const XS_CONTROL = 0;
export const XS_DEBUG = 0;
export const XS_DIRECTORY = 1;
export const XS_READ = 2;
export const XS_GET_PERMS = 3;
export const XS_WATCH = 4;
export const XS_UNWATCH = 5;
export const XS_TRANSACTION_START = 6;
export const XS_TRANSACTION_END = 7;
export const XS_INTRODUCE = 8;
export const XS_RELEASE = 9;
export const XS_GET_DOMAIN_PATH = 10;
export const XS_WRITE = 11;
export const XS_MKDIR = 12;
export const XS_RM = 13;
export const XS_SET_PERMS = 14;
export const XS_WATCH_EVENT = 15;
export const XS_ERROR = 16;
export const XS_IS_DOMAIN_INTRODUCED = 17;
export const XS_RESUME = 18;
export const XS_SET_TARGET = 19;
/** Type 20 was XS_RESTRICT (removed in Xen 4.9); it is never valid. */
export const XS_RESTRICT = 20;
export const XS_RESET_WATCHES = 21;
export const XS_DIRECTORY_PART = 22;
/** Xen >= 4.21, optional. */
export const XS_GET_FEATURE = 23;
/** Xen >= 4.21, optional. */
export const XS_SET_FEATURE = 24;
/** Xen >= 4.21, optional. */
export const XS_GET_QUOTA = 25;
/** Xen >= 4.21, optional. */
export const XS_SET_QUOTA = 26;
/** One past the highest message type this tree knows (Xen's XS_TYPE_COUNT). */
export const XS_TYPE_COUNT = 27;
/** Guaranteed to remain an invalid type. */
export const XS_INVALID = 0xffff;

/** `enum xsd_sockmsg_type` for the C header (XS_DEBUG is a #define alias of XS_CONTROL there). */
export const xsd_sockmsg_type = cEnum('xsd_sockmsg_type', {
  XS_CONTROL, XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH, XS_UNWATCH, XS_TRANSACTION_START,
  XS_TRANSACTION_END, XS_INTRODUCE, XS_RELEASE, XS_GET_DOMAIN_PATH, XS_WRITE, XS_MKDIR, XS_RM,
  XS_SET_PERMS, XS_WATCH_EVENT, XS_ERROR, XS_IS_DOMAIN_INTRODUCED, XS_RESUME, XS_SET_TARGET,
  XS_RESET_WATCHES: 21, XS_DIRECTORY_PART: 22, XS_GET_FEATURE: 23, XS_SET_FEATURE: 24,
  XS_GET_QUOTA: 25, XS_SET_QUOTA: 26, XS_TYPE_COUNT: 27, XS_INVALID: 0xffff,
});

/** Xen's names for the message types, indexed by type (for traces and error messages). */
export const XS_TYPE_NAMES: readonly string[] = [
  'XS_CONTROL', 'XS_DIRECTORY', 'XS_READ', 'XS_GET_PERMS', 'XS_WATCH', 'XS_UNWATCH',
  'XS_TRANSACTION_START', 'XS_TRANSACTION_END', 'XS_INTRODUCE', 'XS_RELEASE',
  'XS_GET_DOMAIN_PATH', 'XS_WRITE', 'XS_MKDIR', 'XS_RM', 'XS_SET_PERMS', 'XS_WATCH_EVENT',
  'XS_ERROR', 'XS_IS_DOMAIN_INTRODUCED', 'XS_RESUME', 'XS_SET_TARGET', 'XS_RESTRICT',
  'XS_RESET_WATCHES', 'XS_DIRECTORY_PART', 'XS_GET_FEATURE', 'XS_SET_FEATURE',
  'XS_GET_QUOTA', 'XS_SET_QUOTA',
];

// ---- struct xsd_errors xsd_errors[] ----------------------------------------------------

/** One entry of Xen's error table: the errno (Linux/Xen numbering) and its wire name. */
export interface XsdError {
  readonly errnum: number;
  readonly errstring: string;
}

/**
 * Xen's xsd_errors[] in table order. Errors travel as the name string plus a NUL. Xen 3.x
 * ends the table at EISCONN; E2BIG (Xen 4.4) and EPERM were appended later.
 */
export const XSD_ERRORS: readonly XsdError[] = [
  { errnum: 22, errstring: 'EINVAL' },
  { errnum: 13, errstring: 'EACCES' },
  { errnum: 17, errstring: 'EEXIST' },
  { errnum: 21, errstring: 'EISDIR' },
  { errnum: 2, errstring: 'ENOENT' },
  { errnum: 12, errstring: 'ENOMEM' },
  { errnum: 28, errstring: 'ENOSPC' },
  { errnum: 5, errstring: 'EIO' },
  { errnum: 39, errstring: 'ENOTEMPTY' },
  { errnum: 38, errstring: 'ENOSYS' },
  { errnum: 30, errstring: 'EROFS' },
  { errnum: 16, errstring: 'EBUSY' },
  { errnum: 11, errstring: 'EAGAIN' },
  { errnum: 106, errstring: 'EISCONN' },
  { errnum: 7, errstring: 'E2BIG' },
  { errnum: 1, errstring: 'EPERM' },
];

/** The wire names as a type: what an XS_ERROR payload can say. */
export type XsErrorName =
  | 'EINVAL' | 'EACCES' | 'EEXIST' | 'EISDIR' | 'ENOENT' | 'ENOMEM' | 'ENOSPC' | 'EIO'
  | 'ENOTEMPTY' | 'ENOSYS' | 'EROFS' | 'EBUSY' | 'EAGAIN' | 'EISCONN' | 'E2BIG' | 'EPERM';

// ---- struct xsd_sockmsg ----------------------------------------------------------------

/** sizeof(struct xsd_sockmsg). */
export const XSD_SOCKMSG_SIZE = 16;
/** Offset of `uint32_t type` (enum xsd_sockmsg_type). */
export const XSD_SOCKMSG_TYPE = 0;
/** Offset of `uint32_t req_id`: chosen by the client, echoed unchanged in the reply. */
export const XSD_SOCKMSG_REQ_ID = 4;
/** Offset of `uint32_t tx_id`: transaction id, 0 = none; echoed in the reply. */
export const XSD_SOCKMSG_TX_ID = 8;
/** Offset of `uint32_t len`: payload length in bytes. */
export const XSD_SOCKMSG_LEN = 12;

/** enum xs_watch_type: index of each string in an XS_WATCH_EVENT payload. */
export const XS_WATCH_PATH = 0;
export const XS_WATCH_TOKEN = 1;
export const xs_watch_type = cEnum('xs_watch_type', { XS_WATCH_PATH, XS_WATCH_TOKEN });

/** The message header; `len` payload bytes follow it. */
export const xsd_sockmsg = struct('xsd_sockmsg', [
  f('type', u32, 'XS_* (enum xsd_sockmsg_type)'),
  f('req_id', u32, 'chosen by the client, echoed unchanged in the reply'),
  f('tx_id', u32, 'transaction id, 0 = none; echoed in the reply'),
  f('len', u32, 'payload length in bytes, at most XENSTORE_PAYLOAD_MAX'),
], { size: XSD_SOCKMSG_SIZE, typedef: null, doc: 'XenStore message header (all fields little-endian).' });

/** Historic 3.x write-mode strings; not part of the XS_WRITE payload. */
export const XS_WRITE_NONE = 'NONE';
export const XS_WRITE_CREATE = 'CREATE';
export const XS_WRITE_CREATE_EXCL = 'CREATE|EXCL';

// ---- limits ----------------------------------------------------------------------------

/** Maximum payload of one message; a longer one is a protocol violation. */
export const XENSTORE_PAYLOAD_MAX = 4096;
/** Maximum length of an absolute path. */
export const XENSTORE_ABS_PATH_MAX = 3072;
/** Maximum length of a path relative to a domain's home. */
export const XENSTORE_REL_PATH_MAX = 2048;

// ---- struct xenstore_domain_interface (the ring page) ----------------------------------

/** Size of each of the two byte rings. */
export const XENSTORE_RING_SIZE = 1024;
/** `XENSTORE_RING_IDX`: a free-running ring index. */
export const XENSTORE_RING_IDX = alias('XENSTORE_RING_IDX', u32);
/** Byte x of a stream lives at ring[MASK_XENSTORE_IDX(x)]; indexes run free as uint32. */
export const MASK_XENSTORE_IDX = (idx: number): number => idx & (XENSTORE_RING_SIZE - 1);

/** Offset of `char req[XENSTORE_RING_SIZE]`: requests, guest -> xenstored. */
export const XENSTORE_IF_REQ = 0;
/** Offset of `char rsp[XENSTORE_RING_SIZE]`: replies and watch events, xenstored -> guest. */
export const XENSTORE_IF_RSP = 1024;
/** Offset of `XENSTORE_RING_IDX req_cons` (written by xenstored). */
export const XENSTORE_IF_REQ_CONS = 2048;
/** Offset of `XENSTORE_RING_IDX req_prod` (written by the guest). */
export const XENSTORE_IF_REQ_PROD = 2052;
/** Offset of `XENSTORE_RING_IDX rsp_cons` (written by the guest). */
export const XENSTORE_IF_RSP_CONS = 2056;
/** Offset of `XENSTORE_RING_IDX rsp_prod` (written by xenstored). */
export const XENSTORE_IF_RSP_PROD = 2060;
/** Offset of `uint32_t server_features` (Xen >= 4.5; written by the server only). */
export const XENSTORE_IF_SERVER_FEATURES = 2064;
/** Offset of `uint32_t connection` (Xen >= 4.5). */
export const XENSTORE_IF_CONNECTION = 2068;
/** Offset of `uint32_t error` (Xen >= 4.17). */
export const XENSTORE_IF_ERROR = 2072;
/** Offset of `uint32_t evtchn_port` (Xen >= 4.21, dom0less; 0 = unused). */
export const XENSTORE_IF_EVTCHN_PORT = 2076;
/** sizeof(struct xenstore_domain_interface) in Xen 3.x (up to rsp_prod). */
export const XENSTORE_DOMAIN_INTERFACE_SIZE_3X = 2064;
/** sizeof(struct xenstore_domain_interface) in Xen master. */
export const XENSTORE_DOMAIN_INTERFACE_SIZE = 2080;

/** The xenstore ring page, shared by a domain and xenstored. */
export const xenstore_domain_interface = struct('xenstore_domain_interface', [
  arr('req', char, XENSTORE_RING_SIZE, 'requests, guest -> xenstored'),
  arr('rsp', char, XENSTORE_RING_SIZE, 'replies and watch events, xenstored -> guest'),
  f('req_cons', XENSTORE_RING_IDX, 'written by xenstored'),
  f('req_prod', XENSTORE_RING_IDX, 'written by the guest'),
  f('rsp_cons', XENSTORE_RING_IDX, 'written by the guest'),
  f('rsp_prod', XENSTORE_RING_IDX, 'written by xenstored'),
  f('server_features', u32, 'Xen 4.5+: XENSTORE_SERVER_FEATURE_* bits, written by the server only'),
  f('connection', u32, 'Xen 4.5+: XENSTORE_CONNECTED / XENSTORE_RECONNECT'),
  f('error', u32, 'Xen 4.17+: XENSTORE_ERROR_*, written by the server'),
  f('evtchn_port', u32, 'Xen 4.21+ (dom0less): event channel port, 0 = unused'),
], { size: XENSTORE_DOMAIN_INTERFACE_SIZE, typedef: null, doc: 'The xenstore ring page (3.x ends after rsp_prod: 2064 bytes).' });

/** server_features bit: the server supports the reconnection protocol (`connection`). */
export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
/** server_features bit: the server reports fatal ring errors in `error`. */
export const XENSTORE_SERVER_FEATURE_ERROR = 2;
/** server_features bit: XS_WATCH takes an optional depth argument (Xen >= 4.21). */
export const XENSTORE_SERVER_FEATURE_WATCHDEPTH = 4;
/** server_features bit: permissions may name DOMID_ANY (Xen >= 4.21). */
export const XENSTORE_SERVER_FEATURE_DOMID_ANY = 8;

/** `connection` values. */
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;

/** `error` values. */
export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

/**
 * The message table (Xen's wire_funcs[]): payload decoding and the reply of every message
 * type, xenstore.md §3.
 *
 * Dispatch rules, in order:
 * 1. a type with no handler (unknown, XS_WATCH_EVENT, XS_ERROR, the removed XS_RESTRICT, the
 *    optional 4.21 feature/quota messages) -> ENOSYS;
 * 2. a privileged-only type from an unprivileged connection -> EACCES;
 * 3. a non-zero header tx_id that names no open transaction of this connection -> ENOENT
 *    (WATCH and UNWATCH ignore tx_id);
 * 4. the handler: it queues exactly one reply or throws an XsError.
 *
 * Argument conventions (Xen's onearg / get_strings): single-argument requests must be
 * exactly `<arg>\0`; multi-argument requests count NUL-terminated strings and ignore bytes
 * after the last NUL; numbers are parsed like C's atoi.
 */
import {
  XS_CONTROL, XS_DIRECTORY, XS_DIRECTORY_PART, XS_GET_DOMAIN_PATH, XS_GET_PERMS, XS_INTRODUCE,
  XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ, XS_RELEASE, XS_RESET_WATCHES, XS_RESUME, XS_RM,
  XS_SET_PERMS, XS_SET_TARGET, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_TYPE_COUNT,
  XS_UNWATCH, XS_WATCH, XS_WRITE,
} from '../../abi/io/xs_wire.ts';
import { asDomId, asEvtchnPort, asGfn, isDomId, type DomId } from '../../abi/types.ts';
import { DOMID_INVALID, DOMID_SELF } from '../../abi/xen.ts';
import type { Connection, PendingRequest } from './connection.ts';
import { doControl } from './control.ts';
import {
  opDirectory, opDirectoryPart, opGetPerms, opMkdir, opRead, opRm, opSetPerms, opWrite, resolve,
} from './node_ops.ts';
import { domainPath } from './path.ts';
import { formatPerms, parsePerm } from './perms.ts';
import { Transaction } from './transaction.ts';
import { addWatch, eventPath, removeWatch } from './watch.ts';
import { atoi, countStrings, latin1, oneArg, payloadStrings, type XsMessage } from './wire.ts';
import type { XenStored } from './xenstored.ts';
import { XS_ERR } from './xs_error.ts';

type Handler = (d: XenStored, c: Connection, m: XsMessage, req: PendingRequest, tx: Transaction | null) => void;

/** Ignore the header tx_id. */
const NOTID = 1;
/** dom0 and host tools only. */
const PRIV = 2;

/**
 * A domid argument: C atoi, then the domid_t range. Out-of-range ids name no domain; they
 * become DOMID_INVALID so lookups fail the way Xen's do (ENOENT / "F").
 */
function domidArg(s: string): DomId {
  const n = atoi(s);
  return asDomId(isDomId(n) ? n : DOMID_INVALID);
}

const OK = 'OK\0';

const ok = (d: XenStored, c: Connection, m: XsMessage, req: PendingRequest): void => d.sendReply(c, m, req, OK);

const doRead: Handler = (d, c, m, req, tx) => d.sendReply(c, m, req, opRead(c, d.viewFor(tx), oneArg(m.payload)));

const doDirectory: Handler = (d, c, m, req, tx) =>
  d.sendReply(c, m, req, opDirectory(c, d.viewFor(tx), oneArg(m.payload)));

const doDirectoryPart: Handler = (d, c, m, req, tx) => {
  if (countStrings(m.payload) !== 2) throw XS_ERR.EINVAL;
  const [path, off] = payloadStrings(m.payload) as [string, string]; // SAFETY: exactly two strings
  d.sendReply(c, m, req, opDirectoryPart(c, d.viewFor(tx), path, Math.max(0, atoi(off))));
};

const doGetPerms: Handler = (d, c, m, req, tx) => {
  const perms = opGetPerms(c, d.viewFor(tx), oneArg(m.payload));
  d.sendReply(c, m, req, formatPerms(perms).map((p) => `${p}\0`).join(''));
};

const doWrite: Handler = (d, c, m, req, tx) => {
  const nul = m.payload.indexOf(0);
  if (nul < 0) throw XS_ERR.EINVAL;
  // The payload buffer is reused for the next message: the stored value is a copy.
  opWrite(c, d.viewFor(tx), latin1(m.payload, 0, nul), m.payload.slice(nul + 1));
  ok(d, c, m, req);
};

const doMkdir: Handler = (d, c, m, req, tx) => {
  opMkdir(c, d.viewFor(tx), oneArg(m.payload));
  ok(d, c, m, req);
};

const doRm: Handler = (d, c, m, req, tx) => {
  opRm(c, d.viewFor(tx), oneArg(m.payload));
  ok(d, c, m, req);
};

const doSetPerms: Handler = (d, c, m, req, tx) => {
  const n = countStrings(m.payload);
  if (n < 2) throw XS_ERR.EINVAL;
  if (!c.privileged && n - 1 > c.quotas.nodePermissions) throw XS_ERR.ENOSPC;
  const strings = payloadStrings(m.payload);
  const perms = strings.slice(1).map(parsePerm);
  opSetPerms(c, d.viewFor(tx), strings[0]!, perms); // SAFETY: n >= 2 strings
  ok(d, c, m, req);
};

const doWatch: Handler = (d, c, m, req) => {
  if (countStrings(m.payload) !== 2) throw XS_ERR.EINVAL;
  const [raw, token] = payloadStrings(m.payload) as [string, string]; // SAFETY: exactly two strings
  const relative = raw.charCodeAt(0) !== 47 && raw.charCodeAt(0) !== 64;
  const path = resolve(c, raw, true);
  addWatch(c, path, token, relative);
  ok(d, c, m, req);
  // The initial event comes after the reply and belongs to no request (Xen's do_watch).
  c.queueEvent(eventPath(c, relative, path), token, null);
};

const doUnwatch: Handler = (d, c, m, req) => {
  if (countStrings(m.payload) !== 2) throw XS_ERR.EINVAL;
  const [raw, token] = payloadStrings(m.payload) as [string, string]; // SAFETY: exactly two strings
  removeWatch(c, resolve(c, raw, true), token);
  ok(d, c, m, req);
};

const doTransactionStart: Handler = (d, c, m, req, tx) => {
  if (tx !== null) throw XS_ERR.EBUSY;
  if (!c.privileged && c.transactions.size >= c.quotas.transactions) throw XS_ERR.ENOSPC;
  const id = c.allocTxId();
  const limit = c.privileged ? Infinity : c.quotas.transactionNodes;
  c.transactions.set(id, new Transaction(id, d.store, limit));
  d.sendReply(c, m, req, `${id}\0`);
};

const doTransactionEnd: Handler = (d, c, m, req, tx) => {
  const arg = oneArg(m.payload);
  if (arg !== 'T' && arg !== 'F') throw XS_ERR.EINVAL;
  if (tx === null) throw XS_ERR.ENOENT;
  c.transactions.delete(tx.id);
  if (arg === 'T') tx.commit(d, c.id, c.privileged ? undefined : c.quotas.nodes);
  ok(d, c, m, req);
};

const doIntroduce: Handler = (d, c, m, req) => {
  const s = payloadStrings(m.payload);
  if (s.length < 3) throw XS_ERR.EINVAL;
  d.domains.introduceByGfn(domidArg(s[0]!), asGfn(atoi(s[1]!) >>> 0), asEvtchnPort(Math.max(0, atoi(s[2]!)))); // SAFETY: length >= 3
  ok(d, c, m, req);
};

/** Xen's onearg_domain: the single domid argument of RELEASE and RESUME; dom0 -> EINVAL. */
function oneDomain(m: XsMessage): DomId {
  const arg = oneArg(m.payload);
  if (arg === null) throw XS_ERR.EINVAL;
  const domid = domidArg(arg);
  if (domid === 0) throw XS_ERR.EINVAL;
  return domid;
}

const doRelease: Handler = (d, c, m, req) => {
  d.domains.release(oneDomain(m));
  ok(d, c, m, req);
};

const doResume: Handler = (d, c, m, req) => {
  d.domains.resume(oneDomain(m));
  ok(d, c, m, req);
};

const doGetDomainPath: Handler = (d, c, m, req) => {
  const arg = oneArg(m.payload);
  if (arg === null) throw XS_ERR.EINVAL;
  d.sendReply(c, m, req, `${domainPath(atoi(arg) >>> 0)}\0`);
};

const doIsDomainIntroduced: Handler = (d, c, m, req) => {
  const arg = oneArg(m.payload);
  if (arg === null) throw XS_ERR.EINVAL;
  const domid = domidArg(arg);
  d.sendReply(c, m, req, domid === DOMID_SELF || d.domains.isIntroduced(domid) ? 'T\0' : 'F\0');
};

const doSetTarget: Handler = (d, c, m, req) => {
  const s = payloadStrings(m.payload);
  if (s.length < 2) throw XS_ERR.EINVAL;
  d.domains.setTarget(domidArg(s[0]!), domidArg(s[1]!)); // SAFETY: length >= 2
  ok(d, c, m, req);
};

const doResetWatches: Handler = (d, c, m, req) => {
  c.watches.length = 0;
  c.transactions.clear();
  ok(d, c, m, req);
};

const doControlMsg: Handler = (d, c, m, req) => d.sendReply(c, m, req, doControl(d, payloadStrings(m.payload)));

const TABLE: Array<readonly [Handler, number] | undefined> = new Array(XS_TYPE_COUNT);
TABLE[XS_CONTROL] = [doControlMsg, PRIV];
TABLE[XS_DIRECTORY] = [doDirectory, 0];
TABLE[XS_READ] = [doRead, 0];
TABLE[XS_GET_PERMS] = [doGetPerms, 0];
TABLE[XS_WATCH] = [doWatch, NOTID];
TABLE[XS_UNWATCH] = [doUnwatch, NOTID];
TABLE[XS_TRANSACTION_START] = [doTransactionStart, 0];
TABLE[XS_TRANSACTION_END] = [doTransactionEnd, 0];
TABLE[XS_INTRODUCE] = [doIntroduce, PRIV];
TABLE[XS_RELEASE] = [doRelease, PRIV];
TABLE[XS_GET_DOMAIN_PATH] = [doGetDomainPath, 0];
TABLE[XS_WRITE] = [doWrite, 0];
TABLE[XS_MKDIR] = [doMkdir, 0];
TABLE[XS_RM] = [doRm, 0];
TABLE[XS_SET_PERMS] = [doSetPerms, 0];
TABLE[XS_IS_DOMAIN_INTRODUCED] = [doIsDomainIntroduced, PRIV];
TABLE[XS_RESUME] = [doResume, PRIV];
TABLE[XS_SET_TARGET] = [doSetTarget, PRIV];
TABLE[XS_RESET_WATCHES] = [doResetWatches, 0];
TABLE[XS_DIRECTORY_PART] = [doDirectoryPart, 0];

/** Serve `m` from `c`: exactly one reply is queued, or an XsError is thrown. */
export function dispatch(d: XenStored, c: Connection, m: XsMessage, req: PendingRequest): void {
  const entry = m.type < TABLE.length ? TABLE[m.type] : undefined;
  if (entry === undefined) throw XS_ERR.ENOSYS;
  const [fn, flags] = entry;
  if ((flags & PRIV) !== 0 && !c.privileged) throw XS_ERR.EACCES;
  let tx: Transaction | null = null;
  if ((flags & NOTID) === 0 && m.txId !== 0) {
    tx = c.transactions.get(m.txId) ?? null;
    if (tx === null) throw XS_ERR.ENOENT;
  }
  fn(d, c, m, req, tx);
}

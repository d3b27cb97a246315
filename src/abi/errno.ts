/**
 * Xen's error numbers (errno.h; C header: xen/errno.h, where each is spelled XEN_E*).
 * Hypercalls return -errno in EAX with Linux/x86 numbering.
 *
 * Invariants:
 * - A guest mistake is answered with one of these, negated, and never throws across the
 *   hypercall boundary (docs/conventions.md, error tier 1).
 * - ERESTART is internal (a continuation) and never reaches a guest.
 * - Source: shared/abi/hypercalls-x86_32.md §13.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const EWOULDBLOCK = EAGAIN;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOSPC = 28;
export const EROFS = 30;
export const EMLINK = 31;
export const EDOM = 33;
export const ERANGE = 34;
export const EDEADLK = 35;
export const EDEADLOCK = EDEADLK;
export const ENAMETOOLONG = 36;
export const ENOLCK = 37;
export const ENOSYS = 38;
export const ENOTEMPTY = 39;
export const ENODATA = 61;
export const ETIME = 62;
export const EBADMSG = 74;
export const EOVERFLOW = 75;
export const EILSEQ = 84;
/** Internal: the hypercall is being continued. */
export const ERESTART = 85;
export const ENOTSOCK = 88;
export const EMSGSIZE = 90;
export const EOPNOTSUPP = 95;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ENOBUFS = 105;
export const EISCONN = 106;
export const ENOTCONN = 107;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;

/** Name of each errno value (first spelling wins for aliases), for logs and xenstore error strings. @tsonly */
export const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  ([
    ['EPERM', EPERM], ['ENOENT', ENOENT], ['ESRCH', ESRCH], ['EINTR', EINTR], ['EIO', EIO], ['ENXIO', ENXIO],
    ['E2BIG', E2BIG], ['ENOEXEC', ENOEXEC], ['EBADF', EBADF], ['ECHILD', ECHILD], ['EAGAIN', EAGAIN],
    ['ENOMEM', ENOMEM], ['EACCES', EACCES], ['EFAULT', EFAULT], ['EBUSY', EBUSY], ['EEXIST', EEXIST],
    ['EXDEV', EXDEV], ['ENODEV', ENODEV], ['ENOTDIR', ENOTDIR], ['EISDIR', EISDIR], ['EINVAL', EINVAL],
    ['ENFILE', ENFILE], ['EMFILE', EMFILE], ['ENOSPC', ENOSPC], ['EROFS', EROFS], ['EMLINK', EMLINK],
    ['EDOM', EDOM], ['ERANGE', ERANGE], ['EDEADLK', EDEADLK], ['ENAMETOOLONG', ENAMETOOLONG],
    ['ENOLCK', ENOLCK], ['ENOSYS', ENOSYS], ['ENOTEMPTY', ENOTEMPTY], ['ENODATA', ENODATA], ['ETIME', ETIME],
    ['EBADMSG', EBADMSG], ['EOVERFLOW', EOVERFLOW], ['EILSEQ', EILSEQ], ['ERESTART', ERESTART],
    ['ENOTSOCK', ENOTSOCK], ['EMSGSIZE', EMSGSIZE], ['EOPNOTSUPP', EOPNOTSUPP], ['EADDRINUSE', EADDRINUSE],
    ['EADDRNOTAVAIL', EADDRNOTAVAIL], ['ENOBUFS', ENOBUFS], ['EISCONN', EISCONN], ['ENOTCONN', ENOTCONN],
    ['ETIMEDOUT', ETIMEDOUT], ['ECONNREFUSED', ECONNREFUSED],
  ] as const).map(([name, value]) => [value, name] as const),
);

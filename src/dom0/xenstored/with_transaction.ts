/**
 * Running a body in a xenstore transaction until it commits, for any handle that speaks
 * transactions (the in-process XsLocalHandle, a backend's XsHandle): EAGAIN at commit
 * retries the whole body; an exception aborts the transaction and propagates.
 */

/** What withTransaction needs of a handle: start, and end with commit (false = EAGAIN). */
export interface Transactional {
  transactionStart(): number;
  transactionEnd(tx: number, commit: boolean): boolean;
}

/** Run `fn` in a transaction until it commits (EAGAIN retries the whole body). */
export function withTransaction<T>(xs: Transactional, fn: (tx: number) => T): T {
  for (;;) {
    const tx = xs.transactionStart();
    let result: T;
    try {
      result = fn(tx);
    } catch (e) {
      xs.transactionEnd(tx, false);
      throw e;
    }
    if (xs.transactionEnd(tx, true)) return result;
  }
}

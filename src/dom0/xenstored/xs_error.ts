/**
 * How a request fails inside xenstored: a handler throws one of the preallocated XsError
 * objects below and the dispatcher turns it into an XS_ERROR reply carrying the name.
 *
 * Invariants:
 * - Only names from Xen's xsd_errors[] table exist here, so every error a client can see is
 *   one it can decode (clients map unknown names to EINVAL; we never rely on that).
 * - The objects are allocated once: a hostile guest that makes every request fail costs no
 *   allocation and no stack capture per request (they are not `Error` instances).
 */
import { XSD_ERRORS, type XsErrorName } from '../../abi/io/xs_wire.ts';

export class XsError {
  constructor(readonly name: XsErrorName) {}
  toString(): string {
    return this.name;
  }
}

function make(): Readonly<Record<XsErrorName, XsError>> {
  const table = {} as Record<XsErrorName, XsError>; // SAFETY: filled for every name below
  for (const e of XSD_ERRORS) {
    const name = e.errstring as XsErrorName; // SAFETY: XSD_ERRORS lists exactly the XsErrorName set
    table[name] = new XsError(name);
  }
  return table;
}

/** The error objects handlers throw: `throw XS_ERR.ENOENT`. */
export const XS_ERR: Readonly<Record<XsErrorName, XsError>> = make();

/** The errno value Xen and Linux give a wire error name (EINVAL for an unknown name). */
export function xsErrno(name: string): number {
  for (const e of XSD_ERRORS) if (e.errstring === name) return e.errnum;
  return XSD_ERRORS[0]!.errnum; // SAFETY: the table is non-empty; entry 0 is EINVAL
}

/** A request refused by xenstored; `code` is Xen's error name (ENOENT, EACCES, ...). */
export class XsRequestError extends Error {
  override name = 'XsRequestError';
  constructor(readonly code: string, readonly op: string, readonly path: string) {
    super(`xenstore ${op} ${path}: ${code}`);
  }
}

/**
 * XenStore path rules (xenstore.md §5): validation, resolution of relative paths against a
 * connection's home, and the ancestor relation watches fire on.
 *
 * Invariants of a canonical path (what every store key and every watch path is):
 * - absolute (`/...`) or special (`@name`, watches and permissions only);
 * - characters only from `A-Z a-z 0-9 - / _ @`;
 * - no trailing `/` (except the root `/`), no `//`, not empty;
 * - at most XENSTORE_ABS_PATH_MAX characters; for an unprivileged domain the part after
 *   `/local/domain/<id>/` is at most the path-length quota (XENSTORE_REL_PATH_MAX), which is
 *   how Xen's C daemon counts it.
 *
 * Example: the connection of domain 5 sends `device/vbd` -> `/local/domain/5/device/vbd`;
 * a watch registered as `device` reports events with the `/local/domain/5/` prefix stripped.
 */
import { XENSTORE_ABS_PATH_MAX } from '../../abi/io/xs_wire.ts';
import { XS_ERR } from './xs_error.ts';

/** Characters Xen's xenstored accepts in a path ("Nodes can have lots of crap"). */
const VALID = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/_@') VALID[c.charCodeAt(0)] = 1;

export function validChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || VALID[c] === 0) return false;
  }
  return true;
}

/** The home directory of a domain: where its relative paths resolve. */
export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

/** Length of a `/local/domain/<1-5 digits>/` prefix of `p`, or 0 (C: sscanf "%5u/%n"). */
function localPrefixLength(p: string): number {
  const PREFIX = '/local/domain/';
  if (!p.startsWith(PREFIX)) return 0;
  let i = PREFIX.length;
  const start = i;
  while (i < p.length && i - start < 5 && p.charCodeAt(i) >= 48 && p.charCodeAt(i) <= 57) i++;
  if (i === start || p.charCodeAt(i) !== 47 /* / */) return 0;
  return i + 1;
}

/**
 * Resolve `raw` for a connection whose home is `home`. Throws EINVAL for anything that is not
 * a valid path. `relMax` is the path-length quota (undefined = no quota: privileged callers).
 */
export function canonicalize(home: string, raw: string | null, allowSpecial: boolean, relMax: number | undefined): string {
  if (raw === null || !validChars(raw)) throw XS_ERR.EINVAL;
  const first = raw.charCodeAt(0);
  if (first === 64 /* @ */ && !allowSpecial) throw XS_ERR.EINVAL;
  const name = first === 47 /* / */ || first === 64 ? raw : `${home}/${raw}`;
  if (name.length > 1 && name.charCodeAt(name.length - 1) === 47) throw XS_ERR.EINVAL;
  if (name.includes('//')) throw XS_ERR.EINVAL;
  if (name.length > XENSTORE_ABS_PATH_MAX) throw XS_ERR.EINVAL;
  if (relMax !== undefined && name.length - localPrefixLength(name) > relMax) throw XS_ERR.EINVAL;
  return name;
}

export function isSpecial(path: string): boolean {
  return path.charCodeAt(0) === 64;
}

/** Is `child` equal to `parent` or below it? `/` contains everything. */
export function isChild(child: string, parent: string): boolean {
  if (parent === '/') return true;
  if (!child.startsWith(parent)) return false;
  return child.length === parent.length || child.charCodeAt(parent.length) === 47;
}

/** Parent of a canonical path; `/` for top-level nodes and for special names. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash > 0 ? path.slice(0, slash) : '/';
}

/** Last component of a canonical non-root path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

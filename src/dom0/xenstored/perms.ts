/**
 * Node permissions (xenstore.md §6): the string form on the wire and the access check.
 *
 * A permission list has at least one entry. Entry 0 names the owner and its letter is the
 * access of every domain not listed later; entries 1.. grant a listed domain its letter.
 * Letters: n = none, r = read, w = write, b = both.
 *
 * Access for a connection (Xen's perm_for_conn):
 * 1. privileged (dom0, host-tool sockets) -> read, write and owner;
 * 2. the owner, or a domain whose SET_TARGET target is the owner -> read, write and owner;
 * 3. the first entry i >= 1 naming the domain (or its target) -> that entry's letter;
 * 4. otherwise entry 0's letter.
 *
 * Example: [n0, r5] -> dom0 owns it, dom5 may read it, everyone else sees nothing.
 */
import { XS_ERR } from './xs_error.ts';

/** Access bits (Xen's enum xs_perm_type; the daemon-internal OWNER bit included). */
export const XS_PERM_NONE = 0;
export const XS_PERM_READ = 1;
export const XS_PERM_WRITE = 2;
export const XS_PERM_OWNER = 8;

export interface XsPerm {
  /** The domain this entry is about (entry 0: the owner). */
  readonly id: number;
  /** XS_PERM_READ | XS_PERM_WRITE bits. */
  readonly perm: number;
}

/** A node's permission list; never empty. */
export type XsPerms = readonly XsPerm[];

/** Who is asking: what perm_for_conn needs to know about a connection. */
export interface XsCaller {
  readonly id: number;
  readonly privileged: boolean;
  /** Domain whose nodes this one may treat as its own (XS_SET_TARGET), or -1. */
  readonly target: number;
}

/** Largest domid a permission entry may name (domid_t is 16 bits). */
const DOMID_MAX = 0xffff;

/** Parse one entry like `r5`; EINVAL for anything else. */
export function parsePerm(s: string): XsPerm {
  let perm: number;
  switch (s.charCodeAt(0)) {
    case 110 /* n */: perm = XS_PERM_NONE; break;
    case 114 /* r */: perm = XS_PERM_READ; break;
    case 119 /* w */: perm = XS_PERM_WRITE; break;
    case 98 /* b */: perm = XS_PERM_READ | XS_PERM_WRITE; break;
    default: throw XS_ERR.EINVAL;
  }
  if (s.length < 2 || s.length > 6) throw XS_ERR.EINVAL;
  let id = 0;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw XS_ERR.EINVAL;
    id = id * 10 + c;
  }
  if (id > DOMID_MAX) throw XS_ERR.EINVAL;
  return { id, perm };
}

const LETTERS = ['n', 'r', 'w', 'b'];

export function formatPerm(p: XsPerm): string {
  return `${LETTERS[p.perm & 3]}${p.id}`;
}

export function formatPerms(perms: XsPerms): string[] {
  return perms.map(formatPerm);
}

/** The access bits `caller` has on a node with `perms`. */
export function permForCaller(caller: XsCaller, perms: XsPerms): number {
  const owner = perms[0]!; // SAFETY: permission lists are never empty (invariant above)
  if (caller.privileged || owner.id === caller.id || (caller.target >= 0 && owner.id === caller.target)) {
    return XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
  }
  for (let i = 1; i < perms.length; i++) {
    const e = perms[i]!; // SAFETY: i < length
    if (e.id === caller.id || (caller.target >= 0 && e.id === caller.target)) return e.perm;
  }
  return owner.perm;
}

export function canRead(caller: XsCaller, perms: XsPerms): boolean {
  return (permForCaller(caller, perms) & XS_PERM_READ) !== 0;
}

/** The permissions a new node gets: its parent's, owned by the creator unless privileged. */
export function inheritPerms(parent: XsPerms, caller: XsCaller): XsPerms {
  if (caller.privileged || parent[0]!.id === caller.id) return parent; // SAFETY: non-empty
  const out = parent.slice();
  out[0] = { id: caller.id, perm: parent[0]!.perm }; // SAFETY: non-empty
  return out;
}

export function permsEqual(a: XsPerms, b: XsPerms): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.id !== b[i]!.id || a[i]!.perm !== b[i]!.perm) return false; // SAFETY: i < length
  return true;
}

/** Root and the standard top-level nodes: owned by dom0, nobody else may see them. */
export const PERMS_DOM0_ONLY: XsPerms = [{ id: 0, perm: XS_PERM_NONE }];

/**
 * The store operations behind XS_READ, XS_DIRECTORY(_PART), XS_WRITE, XS_MKDIR, XS_RM,
 * XS_GET_PERMS and XS_SET_PERMS, written once against a NodeView so that they behave the
 * same inside and outside transactions.
 *
 * Error rules (Xen's get_node / errno_from_parents):
 * - an existing node without the needed access -> EACCES;
 * - a missing node -> ENOENT if the caller has the needed access on the nearest existing
 *   ancestor, else EACCES (so a denied caller learns nothing about what exists);
 * - creating a node needs write access to the nearest existing ancestor; missing parents are
 *   created with empty values; every new node copies its parent's permissions with the
 *   owner replaced by the creator (unless privileged).
 *
 * Watch rules (Xen's fire_watches calls): a write, a mkdir that creates, or a set_perms of P
 * fires once for P (non-exact: watches on P and its ancestors); an rm of P fires non-exact
 * for P and exact for every node deleted below P. Intermediate parents created by a write
 * fire nothing of their own: the event for the final path reaches their watchers.
 *
 * Every check happens before the first mutation, so a failed operation leaves no trace.
 */
import { XENSTORE_PAYLOAD_MAX } from '../../abi/io/xs_wire.ts';
import { baseName, canonicalize, childPath, parentOf } from './path.ts';
import {
  inheritPerms, permForCaller, XS_PERM_OWNER, XS_PERM_READ, XS_PERM_WRITE,
  type XsCaller, type XsPerms,
} from './perms.ts';
import type { XsQuotas } from './quota.ts';
import { EMPTY_VALUE, nodeSize, type XsNode } from './store.ts';
import type { NodeView } from './node_view.ts';
import { XS_ERR } from './xs_error.ts';

/** A caller of the node operations: identity, home directory and its quotas. */
export interface OpCaller extends XsCaller {
  /** `/local/domain/<id>`: where relative paths resolve. */
  readonly home: string;
  readonly quotas: XsQuotas;
}

export function resolve(c: OpCaller, raw: string | null, allowSpecial: boolean): string {
  return canonicalize(c.home, raw, allowSpecial, c.privileged ? undefined : c.quotas.pathMax);
}

/** Access bits `c` has on the nearest existing proper ancestor of `path`. */
function parentAccess(c: OpCaller, view: NodeView, path: string): number {
  let p = path;
  for (;;) {
    p = parentOf(p);
    const n = view.get(p);
    if (n !== undefined) return permForCaller(c, n.perms);
    if (p === '/') return 0; // root missing cannot happen (store invariant); deny
  }
}

/**
 * The node at canonical `path` if `c` has all of `perm` on it; throws EACCES or ENOENT by
 * the rules above.
 */
export function getNodeChecked(c: OpCaller, view: NodeView, path: string, perm: number): XsNode {
  const node = view.get(path);
  if (node !== undefined) {
    if ((permForCaller(c, node.perms) & perm) !== perm) throw XS_ERR.EACCES;
    return node;
  }
  throw (parentAccess(c, view, path) & perm) !== 0 ? XS_ERR.ENOENT : XS_ERR.EACCES;
}

/** Like getNodeChecked but returns undefined instead of throwing ENOENT. */
function lookupForWrite(c: OpCaller, view: NodeView, path: string): XsNode | undefined {
  try {
    return getNodeChecked(c, view, path, XS_PERM_WRITE);
  } catch (e) {
    if (e === XS_ERR.ENOENT) return undefined;
    throw e;
  }
}

function checkNodeSize(c: OpCaller, perms: XsPerms, valueLength: number, children: readonly string[]): void {
  if (!c.privileged && nodeSize(perms, valueLength, children) > c.quotas.nodeSize) throw XS_ERR.ENOSPC;
}

export function opRead(c: OpCaller, view: NodeView, raw: string | null): Uint8Array {
  return getNodeChecked(c, view, resolve(c, raw, false), XS_PERM_READ).value;
}

/** Child names, each followed by a NUL (XS_DIRECTORY payload); E2BIG past one message. */
export function opDirectory(c: OpCaller, view: NodeView, raw: string | null): string {
  const node = getNodeChecked(c, view, resolve(c, raw, false), XS_PERM_READ);
  let out = '';
  for (const child of node.children) out += `${child}\0`;
  if (out.length > XENSTORE_PAYLOAD_MAX) throw XS_ERR.E2BIG;
  return out;
}

/**
 * XS_DIRECTORY_PART: `<generation>\0` then the child names from byte `offset` of the
 * NUL-separated list that fit in one message; an extra `\0` marks the end of the list.
 */
export function opDirectoryPart(c: OpCaller, view: NodeView, raw: string, offset: number): string {
  const node = getNodeChecked(c, view, resolve(c, raw, false), XS_PERM_READ);
  const gen = `${node.generation}\0`;
  let all = '';
  for (const child of node.children) all += `${child}\0`;
  if (offset >= all.length) return `${gen}\0`;
  const maxLen = XENSTORE_PAYLOAD_MAX - gen.length - 1;
  // Cut at a child boundary: take names while they fit, always at least stopping at the end.
  let end = offset;
  while (end < all.length) {
    const nul = all.indexOf('\0', end);
    const next = (nul < 0 ? all.length : nul) + 1;
    if (next - offset > maxLen) break;
    end = next;
  }
  const part = all.slice(offset, end);
  return end >= all.length ? `${gen}${part}\0` : `${gen}${part}`;
}

/**
 * Create canonical `path` (known to be missing, with write access checked on the nearest
 * ancestor) and any missing parents. Checks node-count and node-size quotas first.
 */
function createNode(c: OpCaller, view: NodeView, path: string, value: Uint8Array): void {
  const missing: string[] = [path];
  let parentName = parentOf(path);
  let parent = view.get(parentName);
  while (parent === undefined) {
    missing.push(parentName);
    parentName = parentOf(parentName);
    parent = view.get(parentName);
  }
  const perms = inheritPerms(parent.perms, c);
  const top = missing[missing.length - 1]!; // SAFETY: contains at least `path`
  const parentChildren = [...parent.children, baseName(top)];
  if (!c.privileged) {
    if (view.ownedCount(c.id) + missing.length > c.quotas.nodes) throw XS_ERR.ENOSPC;
    checkNodeSize(c, parent.perms, parent.value.length, parentChildren);
    checkNodeSize(c, perms, value.length, []);
  }
  view.put(parentName, parent.value, parent.perms, parentChildren);
  for (let i = missing.length - 1; i >= 1; i--) {
    view.put(missing[i]!, EMPTY_VALUE, perms, [baseName(missing[i - 1]!)]); // SAFETY: 1 <= i < length
  }
  view.put(path, value, perms, []);
}

export function opWrite(c: OpCaller, view: NodeView, raw: string | null, value: Uint8Array): void {
  const path = resolve(c, raw, false);
  const node = lookupForWrite(c, view, path);
  if (node === undefined) {
    createNode(c, view, path, value);
  } else {
    checkNodeSize(c, node.perms, value.length, node.children);
    view.put(path, value, node.perms, node.children);
  }
  view.changed(path, false, undefined);
}

export function opMkdir(c: OpCaller, view: NodeView, raw: string | null): void {
  const path = resolve(c, raw, false);
  if (lookupForWrite(c, view, path) !== undefined) return;
  createNode(c, view, path, EMPTY_VALUE);
  view.changed(path, false, undefined);
}

/** Remove canonical `root` and everything below it (root exists, is not `/`). */
export function removeTree(view: NodeView, root: string): void {
  // Post-order walk with an explicit stack: children are deleted before their parent.
  const stack: Array<{ path: string; node: XsNode; next: number }> = [];
  const rootNode = view.get(root);
  if (rootNode === undefined) return;
  stack.push({ path: root, node: rootNode, next: 0 });
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!; // SAFETY: non-empty
    if (top.next < top.node.children.length) {
      const p = childPath(top.path, top.node.children[top.next++]!); // SAFETY: bounds checked
      const n = view.get(p);
      if (n !== undefined) stack.push({ path: p, node: n, next: 0 });
      continue;
    }
    stack.pop();
    view.del(top.path);
    view.changed(top.path, top.path !== root, top.node.perms);
  }
  const parentName = parentOf(root);
  const parent = view.get(parentName);
  if (parent !== undefined) {
    const name = baseName(root);
    view.put(parentName, parent.value, parent.perms, parent.children.filter((ch) => ch !== name));
  }
}

export function opRm(c: OpCaller, view: NodeView, raw: string | null): void {
  const path = resolve(c, raw, false);
  const node = lookupForWrite(c, view, path);
  if (node === undefined) {
    // Already gone: fine if the parent exists (Xen's do_rm).
    if (view.get(parentOf(path)) !== undefined) return;
    throw XS_ERR.ENOENT;
  }
  if (path === '/') throw XS_ERR.EINVAL;
  removeTree(view, path);
}

export function opGetPerms(c: OpCaller, view: NodeView, raw: string | null): XsPerms {
  return getNodeChecked(c, view, resolve(c, raw, true), XS_PERM_READ).perms;
}

/** `perms` already parsed (at least one entry); path may name a special node. */
export function opSetPerms(c: OpCaller, view: NodeView, raw: string | null, perms: XsPerms): void {
  if (!c.privileged && perms.length > c.quotas.nodePermissions) throw XS_ERR.ENOSPC;
  const path = resolve(c, raw, true);
  const node = getNodeChecked(c, view, path, XS_PERM_WRITE | XS_PERM_OWNER);
  if (!c.privileged && perms[0]!.id !== node.perms[0]!.id) throw XS_ERR.EPERM; // SAFETY: non-empty
  checkNodeSize(c, perms, node.value.length, node.children);
  view.put(path, node.value, perms, node.children);
  view.changed(path, false, node.perms);
}

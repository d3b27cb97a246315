/**
 * Watches (xenstore.md §7): registration per connection and the firing rules.
 *
 * Firing a change of path P (Xen's fire_watches):
 * - non-exact (a write, a created node, a set_perms, the root of an rm): every watch whose
 *   path is P or an ancestor of P fires, with event path P;
 * - exact (a node deleted below the root of an rm, a special event such as
 *   `@releaseDomain`): only watches on exactly P fire.
 * A connection receives the events only if it may see the change (Xen's watch_permitted,
 * XSA-115): it is privileged, or it could read P before the change (the old permissions of
 * a deleted node or of a set_perms), or it can read P now, or P exists (or existed until
 * this change) and it can read P's parent now.
 * Special names have `/` as parent, so unprivileged domains see `@introduceDomain` and
 * `@releaseDomain` only if dom0 granted read on the special node with XS_SET_PERMS.
 *
 * Event paths of a watch registered with a relative path are reported relative to the
 * connection's home, exactly as the client wrote them.
 *
 * Example: domain 5 watches `device`; dom0 writes /local/domain/5/device/vbd/768/state; domain
 * 5 can read its device directory, so it gets `device/vbd/768/state` with its token.
 */
import type { Connection, PendingRequest } from './connection.ts';
import { isChild, parentOf } from './path.ts';
import { canRead, type XsPerms } from './perms.ts';
import type { Store } from './store.ts';
import { XS_ERR } from './xs_error.ts';

/** Register (path, token) on `conn`; EEXIST if present, E2BIG past the watch quota. */
export function addWatch(conn: Connection, path: string, token: string, relative: boolean): void {
  for (const w of conn.watches) if (w.path === path && w.token === token) throw XS_ERR.EEXIST;
  if (!conn.privileged && conn.watches.length >= conn.quotas.watches) throw XS_ERR.E2BIG;
  conn.watches.push({ path, token, relative });
}

/** Remove (path, token) from `conn`; ENOENT if it was not registered. */
export function removeWatch(conn: Connection, path: string, token: string): void {
  const i = conn.watches.findIndex((w) => w.path === path && w.token === token);
  if (i < 0) throw XS_ERR.ENOENT;
  conn.watches.splice(i, 1);
}

/** The path to report to the watcher: relative watches drop `<home>/`. */
export function eventPath(conn: Connection, relative: boolean, path: string): string {
  return relative ? path.slice(conn.home.length + 1) : path;
}

export function watchPermitted(conn: Connection, store: Store, path: string, oldPerms: XsPerms | undefined): boolean {
  if (conn.privileged) return true;
  if (oldPerms !== undefined && canRead(conn, oldPerms)) return true;
  const node = store.get(path);
  if (node !== undefined && canRead(conn, node.perms)) return true;
  // A node that exists, or existed until this change, is visible through a readable parent.
  if (node === undefined && oldPerms === undefined) return false;
  const parent = store.get(parentOf(path));
  return parent !== undefined && canRead(conn, parent.perms);
}

/** Queue the events a change of `path` causes on every connection in `conns`. */
export function fireWatches(
  conns: Iterable<Connection>,
  store: Store,
  path: string,
  exact: boolean,
  oldPerms: XsPerms | undefined,
  cause: PendingRequest | null,
): void {
  for (const conn of conns) {
    if (conn.watches.length === 0) continue;
    let permitted: boolean | undefined;
    for (const w of conn.watches) {
      if (exact ? w.path !== path : !isChild(path, w.path)) continue;
      permitted ??= watchPermitted(conn, store, path, oldPerms);
      if (!permitted) break;
      conn.queueEvent(eventPath(conn, w.relative, path), w.token, cause);
    }
  }
}

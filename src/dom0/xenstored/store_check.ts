/**
 * The store's structural invariants as a checker (XS_CONTROL `check`, and the tests after
 * every random operation sequence):
 * - `/` and the special nodes exist; every node has a non-empty permission list;
 * - every listed child exists, is listed once, and its name is a single path component;
 * - every node other than `/` and the special nodes is listed in its existing parent;
 * - the owner counts match the nodes.
 * Returns a description of every violation found (empty when the store is sound).
 */
import { baseName, childPath, isSpecial, parentOf } from './path.ts';
import type { Store } from './store.ts';

export function checkStore(store: Store): string[] {
  const problems: string[] = [];
  for (const special of ['/', '@introduceDomain', '@releaseDomain']) {
    if (!store.has(special)) problems.push(`missing ${special}`);
  }
  const owners = new Map<number, number>();
  for (const path of store.paths()) {
    const node = store.get(path)!; // SAFETY: iterating the store's own keys
    if (node.perms.length === 0) {
      problems.push(`${path}: empty permission list`);
      continue;
    }
    owners.set(node.perms[0]!.id, (owners.get(node.perms[0]!.id) ?? 0) + 1); // SAFETY: non-empty
    const seen = new Set<string>();
    for (const child of node.children) {
      if (child === '' || child.includes('/')) problems.push(`${path}: bad child name '${child}'`);
      if (seen.has(child)) problems.push(`${path}: child '${child}' listed twice`);
      seen.add(child);
      if (!store.has(childPath(path, child))) problems.push(`${path}: child '${child}' does not exist`);
    }
    if (path === '/' || isSpecial(path)) continue;
    const parent = store.get(parentOf(path));
    if (parent === undefined) problems.push(`${path}: parent missing`);
    else if (!parent.children.includes(baseName(path))) problems.push(`${path}: not listed in its parent`);
  }
  for (const [domid, n] of owners) {
    if (store.ownedCount(domid) !== n) problems.push(`domain ${domid}: owner count ${store.ownedCount(domid)} != ${n}`);
  }
  return problems;
}

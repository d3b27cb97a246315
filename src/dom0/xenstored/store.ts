/**
 * The node database: every committed node by canonical path, the global generation counter
 * and the per-domain count of owned nodes the node quota is checked against.
 *
 * Invariants:
 * - Nodes are immutable values; a change stores a new XsNode. A transaction can therefore
 *   keep references to committed nodes without copying them.
 * - Every existing node except `/` and the special nodes (`@introduceDomain`,
 *   `@releaseDomain`, which only carry permissions) is listed in its parent's `children`,
 *   and every listed child exists (maintained by node_ops.ts and transaction commits).
 * - `generation` is strictly increasing; every stored node carries the value it got when it
 *   was last written, so "changed since I looked" is a generation comparison.
 * - `ownedCount(d)` is the number of stored nodes whose owner (perms[0]) is d.
 */
import type { XsPerms } from './perms.ts';

export interface XsNode {
  /** Raw value bytes (not NUL-terminated; may be empty). */
  readonly value: Uint8Array;
  /** Never empty; entry 0 is the owner. */
  readonly perms: XsPerms;
  /** Child names in creation order (what XS_DIRECTORY returns). */
  readonly children: readonly string[];
  /** Global generation count of the write that produced this node. */
  readonly generation: number;
}

/** Generation recorded for a path that did not exist when it was looked at. */
export const NO_GENERATION = -1;

export const EMPTY_VALUE: Uint8Array = new Uint8Array(0);

export class Store {
  private readonly _nodes = new Map<string, XsNode>();
  private readonly _owned = new Map<number, number>();
  private _generation = 0;

  get size(): number {
    return this._nodes.size;
  }

  get(path: string): XsNode | undefined {
    return this._nodes.get(path);
  }

  has(path: string): boolean {
    return this._nodes.has(path);
  }

  /** Take the next generation number (for a node write or a transaction start). */
  nextGeneration(): number {
    return ++this._generation;
  }

  get generation(): number {
    return this._generation;
  }

  /** Store `node` (its generation is already assigned) and keep the owner counts right. */
  set(path: string, node: XsNode): void {
    const old = this._nodes.get(path);
    if (old !== undefined) this._count(old.perms[0]!.id, -1); // SAFETY: perms never empty
    this._count(node.perms[0]!.id, 1); // SAFETY: perms never empty
    this._nodes.set(path, node);
  }

  delete(path: string): void {
    const old = this._nodes.get(path);
    if (old === undefined) return;
    this._count(old.perms[0]!.id, -1); // SAFETY: perms never empty
    this._nodes.delete(path);
  }

  ownedCount(domid: number): number {
    return this._owned.get(domid) ?? 0;
  }

  /** Every path owned by `domid` (for removing a released domain's orphans). */
  pathsOwnedBy(domid: number): string[] {
    const out: string[] = [];
    if (this.ownedCount(domid) === 0) return out;
    for (const [path, node] of this._nodes) if (node.perms[0]!.id === domid) out.push(path); // SAFETY: non-empty
    return out;
  }

  /** All paths (tests and debugging dumps). */
  paths(): IterableIterator<string> {
    return this._nodes.keys();
  }

  private _count(domid: number, delta: number): void {
    const n = (this._owned.get(domid) ?? 0) + delta;
    if (n === 0) this._owned.delete(domid);
    else this._owned.set(domid, n);
  }
}

/** sizeof(struct xs_tdb_record_hdr) in Xen 4.x: generation (8) + three uint32 lengths. */
const NODE_HEADER_SIZE = 20;

/** Xen's node-size accounting: header + 8 bytes per permission + value + child names. */
export function nodeSize(perms: XsPerms, valueLength: number, children: readonly string[]): number {
  let childLen = 0;
  for (const c of children) childLen += c.length + 1;
  return NODE_HEADER_SIZE + perms.length * 8 + valueLength + childLen;
}

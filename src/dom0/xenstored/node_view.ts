/**
 * The seam between the node operations and where their effects go. node_ops.ts reads and
 * writes through a NodeView; the GlobalView applies changes to the store at once and fires
 * watches, a Transaction (transaction.ts) keeps them private until commit.
 *
 * Invariants:
 * - Every node an operation looks at goes through `get`, so a transaction can record what it
 *   depended on; `put`/`del` are only called on paths just looked at with `get`.
 * - `changed` is called once per modified node with the permissions it had before the change
 *   (undefined when it did not exist or the old permissions do not matter), after the store
 *   already reflects the change.
 */
import type { XsPerms } from './perms.ts';
import { Store, type XsNode } from './store.ts';

/**
 * Watch-firing rule of a change (Xen's `exact` flag): a node written or created fires every
 * watch on it or an ancestor (`exact` false); a node deleted below the root of a removal
 * fires only watches on exactly that node (`exact` true).
 */
export interface ChangeSink {
  fireWatches(path: string, exact: boolean, oldPerms: XsPerms | undefined): void;
}

export interface NodeView {
  readonly inTransaction: boolean;
  get(path: string): XsNode | undefined;
  put(path: string, value: Uint8Array, perms: XsPerms, children: readonly string[]): XsNode;
  del(path: string): void;
  changed(path: string, exact: boolean, oldPerms: XsPerms | undefined): void;
  /** Nodes `domid` owns as this view sees them (node quota). */
  ownedCount(domid: number): number;
}

/** Direct access to the committed store: every change is visible and fires immediately. */
export class GlobalView implements NodeView {
  readonly inTransaction = false;

  constructor(private readonly _store: Store, private readonly _sink: ChangeSink) {}

  get(path: string): XsNode | undefined {
    return this._store.get(path);
  }

  put(path: string, value: Uint8Array, perms: XsPerms, children: readonly string[]): XsNode {
    const node: XsNode = { value, perms, children, generation: this._store.nextGeneration() };
    this._store.set(path, node);
    return node;
  }

  del(path: string): void {
    this._store.delete(path);
  }

  changed(path: string, exact: boolean, oldPerms: XsPerms | undefined): void {
    this._sink.fireWatches(path, exact, oldPerms);
  }

  ownedCount(domid: number): number {
    return this._store.ownedCount(domid);
  }
}
